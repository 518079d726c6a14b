# The settings of a Debian host (debian/rules applies this to
# etc/mailcti.conf.example to make /etc/mailcti/mailcti.conf).
/^\[milter\]/,/^\[/{
s|^#socket=unix:/run/mailcti/milter.sock|# inside Postfix's chroot: smtpd_milters = unix:/mailcti/milter.sock\nsocket=unix:/var/spool/postfix/mailcti/milter.sock|
s|^#user=postfix|user=mailcti|
}
/^\[ctid\]/,/^\[/{
s|^#socket_group=postfix|socket_group=mailcti|
s|^# socket for the Dovecot plugin|# the user ctid (and ctictl started as root) runs as\nuser=mailcti\n&|
}
