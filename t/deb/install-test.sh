#!/bin/bash
# t/deb/install-test.sh [DEBDIR] - the Debian packages on a stock Debian host.
#
# Builds the packages (scripts/deb; or takes the .deb files in DEBDIR), installs
# them with dpkg -i (apt-get -f install when dependencies are missing) and
# checks what the maintainer scripts made: the mailcti user, the directory
# modes, the milter socket directory inside Postfix's chroot, the conffile.
# Then, in a private mount namespace, it runs a Postfix whose master.cf is
# Debian's stock one (smtpd, cleanup and most services chrooted in
# /var/spool/postfix; only the smtp listener moves to a free loopback port) and
# whose smtpd_milters is the packaged unix:/mailcti/milter.sock as seen from
# the chroot.  /etc/postfix and /var/spool/postfix are bind mounts of private
# directories there (the packaged socket directory is mounted into the private
# queue directory), so the system's own Postfix is never touched.  It starts
# pbx-sim, and the installed ctid and cti-milter the way their units'
# ExecStart= would (User=, Group=, SupplementaryGroups=, UMask=,
# NoNewPrivileges= read from the installed units; no systemd here), edits the
# installed mailcti.conf only where a site would ([pbx] host/port, [identity]
# for the loopback client), grants the sender with the installed ctictl, sends
# a request by SMTP and checks the MakeCall in pbx-sim's log and the
# notification in the sender's Maildir.  Finally it purges the packages and
# checks that the system's Postfix and Dovecot configuration is byte for byte
# what it was, and that none of their services nor ours is left running.
#
# Needs root (dpkg, mount namespaces).  Exit 0 all checks passed, 1 a check
# failed, 77 skipped (not root or no postfix installed).
# shellcheck disable=SC2086 # $PACKAGES and the units' ExecStart= are word lists
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PACKAGES="mailcti mailcti-dovecot mailcti-pbx-sim" # a list, split where used
FAILS=0
PASSES=0

say() { echo "install-test: $*"; }
ok() { echo "ok    $*"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL  $*"; FAILS=$((FAILS + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for SECONDS COMMAND... - until COMMAND succeeds, SECONDS at most
	local deadline=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $deadline ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.2
	done
	"$@" 2>/dev/null
}
# the system's Python (the one scripts/setup installs), not a user's shim
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# makecall_logged LOG - pbx-sim's JSON-lines LOG has a MakeCall 2001 -> 0312345678
makecall_logged() {
	"$PY" - "$1" <<-'PY'
		import json, sys
		for line in open(sys.argv[1]):
		    e = json.loads(line)
		    a = e.get("args", {})
		    if e.get("type") == "rx" and e.get("service") == "MakeCall" and \
		            a.get("callingDevice") == "2001" and a.get("calledDirectoryNumber") == "0312345678":
		        sys.exit(0)
		sys.exit(1)
	PY
}
mode_of() { stat -c '%a %U:%G' "$1" 2>/dev/null; }

# ---- inside the private mount namespace --------------------------------------

# unit_value UNIT KEY - the value of KEY= in the installed unit (last one wins)
unit_value() { sed -n "s/^$2=//p" "/lib/systemd/system/$1" | tail -n 1; }

# start_as_unit UNIT LOG - start the unit's ExecStart= as systemd would: its
# user, group, supplementary groups, umask, no new privileges, no capabilities
start_as_unit() {
	local unit=$1 log=$2 user group groups umask exec
	user=$(unit_value "$unit" User)
	group=$(unit_value "$unit" Group)
	groups=$(unit_value "$unit" SupplementaryGroups | tr ' ' ',')
	umask=$(unit_value "$unit" UMask)
	exec=$(unit_value "$unit" ExecStart)
	if [ -z "$user" ] || [ -z "$exec" ]; then
		fail "$unit has User= and ExecStart="
		return 1
	fi
	[ "$(unit_value "$unit" NoNewPrivileges)" = yes ] || fail "$unit has NoNewPrivileges=yes"
	local grouparg=--clear-groups
	[ -z "$groups" ] || grouparg="--groups=$groups"
	(
		umask "${umask:-0022}"
		exec setpriv --reuid="$user" --regid="${group:-$user}" "$grouparg" \
			--no-new-privs --inh-caps=-all --bounding-set=-all $exec
	) >"$log" 2>&1 &
	echo $!
}

inside() {
	local T=$1 PF=$1/pf pids="" smtp_port pbx_port p
	stop_all() {
		local pid
		for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
		for pid in $pids; do
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
		done
		postfix stop >/dev/null 2>&1 || true
		pids=""
	}
	trap stop_all EXIT

	smtp_port=$(free_port)
	pbx_port=$(free_port)
	# the private Postfix: config and queue directories over the system's
	install -d -m 755 "$PF" "$PF/etc" "$PF/spool" "$PF/log" "$PF/mail"
	install -d -m 700 -o postfix "$PF/data"
	cp -a /etc/postfix/postfix-files /etc/postfix/post-install /etc/postfix/postfix-script \
		/etc/postfix/dynamicmaps.cf "$PF/etc/"
	for d in postfix-files.d dynamicmaps.cf.d; do
		[ -d "/etc/postfix/$d" ] && cp -a "/etc/postfix/$d" "$PF/etc/"
	done
	# Debian's stock master.cf; only the public smtpd listener moves to loopback
	sed "s/^smtp      inet  n       -       y       -       -       smtpd$/127.0.0.1:$smtp_port inet n - y - - smtpd/" \
		/usr/share/postfix/master.cf.dist >"$PF/etc/master.cf"
	grep -q "^127.0.0.1:$smtp_port inet n - y - - smtpd$" "$PF/etc/master.cf" ||
		{ fail "the stock master.cf has the chrooted smtpd line"; return 1; }
	grep -q '^cleanup   unix  n       -       y' "$PF/etc/master.cf" || fail "cleanup is chrooted in the stock master.cf"
	cat >"$PF/etc/main.cf" <<-MAIN
		compatibility_level = 3.6
		data_directory = $PF/data
		maillog_file = $PF/log/maillog
		maillog_file_prefixes = /var, /dev/stdout, $T
		inet_interfaces = 127.0.0.1
		inet_protocols = ipv4
		mynetworks = 127.0.0.0/8
		myhostname = mx.pbx.example
		mydomain = pbx.example
		mydestination = \$mydomain, localhost
		smtp_dns_support_level = disabled
		default_transport = error:private test instance delivers nowhere else
		local_transport = virtual
		local_recipient_maps = \$virtual_mailbox_maps
		alias_maps =
		alias_database =
		virtual_mailbox_base = $PF/mail
		virtual_mailbox_maps = inline:{ alice@pbx.example=alice/, call@pbx.example=call/ }
		virtual_uid_maps = static:65534
		virtual_gid_maps = static:65534
		# the lines the README's "Deploying on Debian" gives; the socket as
		# smtpd and cleanup see it from inside their chroot
		smtpd_milters = unix:/mailcti/milter.sock
		non_smtpd_milters = unix:/mailcti/milter.sock
		milter_default_action = tempfail
		milter_protocol = 6
		milter_connect_macros = j {daemon_name} v {client_addr}
		milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {client_addr} {client_name} {client_port}
		milter_rcpt_macros = i {rcpt_addr}
		milter_end_of_data_macros = i {auth_authen} {client_addr}
	MAIN
	chown nobody:nogroup "$PF/mail"
	# the packaged socket directory stays itself inside the private queue directory
	install -d -m 755 "$PF/spool/mailcti"
	mount --bind /var/spool/postfix/mailcti "$PF/spool/mailcti"
	mount --rbind "$PF/spool" /var/spool/postfix
	mount --bind "$PF/etc" /etc/postfix
	touch -d "@$(($(date +%s) - 10))" "$PF/etc/main.cf" "$PF/etc/master.cf"
	if ! postfix start >"$T/postfix-start.log" 2>&1; then
		script -qc "postfix check" /dev/null >>"$T/postfix-start.log" 2>&1 || true
		cat "$T/postfix-start.log"
		fail "the private Postfix starts"
		return 1
	fi
	ok "a private Postfix with Debian's stock master.cf (smtpd, cleanup chrooted) listens on 127.0.0.1:$smtp_port"

	# pbx-sim, from its package, with its packaged configuration
	install -d -m 755 -o nobody "$T/pbx"
	(cd "$T/pbx" && exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/pbx-sim --config /etc/mailcti/pbx-sim.conf --listen "127.0.0.1:$pbx_port" \
		--log "$T/pbx/pbx.jsonl" --control "$T/pbx/control.sock") >"$T/pbx-sim.log" 2>&1 &
	pids="$pids $!"

	# the site's edits: where the PBX is; the loopback test client is trusted
	"$PY" - /etc/mailcti/mailcti.conf "$pbx_port" <<-'PY'
		import re, sys
		path, port = sys.argv[1], sys.argv[2]
		text = open(path).read()
		text = re.sub(r"(?m)^#host=127\.0\.0\.1$", "host=127.0.0.1", text, count=1)
		text = re.sub(r"(?m)^#port=8800$", "port=" + port, text, count=1)
		text = re.sub(r"(?m)^#methods=auth$", "methods=network", text, count=1)
		text = re.sub(r"(?m)^#trusted_networks=$", "trusted_networks=127.0.0.0/8", text, count=1)
		open(path, "w").write(text)
	PY
	check "the site's edits are in place" grep -q "^port=$pbx_port$" /etc/mailcti/mailcti.conf

	p=$(start_as_unit ctid.service "$T/ctid.log") && pids="$pids $p"
	check "ctid listens on /run/mailcti/ctid.sock" wait_for 15 test -S /run/mailcti/ctid.sock
	check "ctid runs as mailcti" test "$(stat -c %U "/proc/$p")" = mailcti
	check "ctid's sockets: control group mailcti, retrieval group mail, 0660 ($(stat -c '%G %a' /run/mailcti/ctid.sock /run/mailcti/retrieval.sock | tr '\n' ' '))" \
		test "$(stat -c '%G %a' /run/mailcti/ctid.sock /run/mailcti/retrieval.sock | tr '\n' ' ')" = "mailcti 660 mail 660 "
	p=$(start_as_unit cti-milter.service "$T/milter.log") && pids="$pids $p"
	check "cti-milter listens inside Postfix's chroot" wait_for 15 test -S /var/spool/postfix/mailcti/milter.sock
	check "cti-milter runs as mailcti" test "$(stat -c %U "/proc/$p")" = mailcti
	check "the milter socket is mailcti:postfix, not world-accessible ($(mode_of /var/spool/postfix/mailcti/milter.sock))" \
		test "$(stat -c '%U:%G %A' /var/spool/postfix/mailcti/milter.sock)" = "mailcti:postfix srwxrwx---"
	check "the PBX link is up" wait_for 20 sh -c 'ctictl status | grep -qiE "^ *link:? +up"'

	# the first sender grant, with the installed ctictl run by root
	if ctictl sender add alice@pbx.example >"$T/ctictl.log" 2>&1 &&
		ctictl sender grant alice@pbx.example 2001 >>"$T/ctictl.log" 2>&1; then
		ok "ctictl (run by root) adds and grants the sender"
	else
		cat "$T/ctictl.log"
		fail "ctictl (run by root) adds and grants the sender"
	fi
	for db in /var/lib/mailcti/*.db; do
		check "$db is 0640 mailcti ($(mode_of "$db"))" test "$(stat -c '%a %U' "$db")" = "640 mailcti"
	done

	# the first call, by mail
	cti-send --print -f alice@pbx.example -g call@pbx.example -s 2001 -t 0312345678 >"$T/request.eml"
	"$PY" - "$smtp_port" "$T/request.eml" >"$T/smtp.log" 2>&1 <<-'PY' || { cat "$T/smtp.log"; fail "SMTP submission of the request"; }
		import smtplib, sys
		with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
		    s.sendmail("alice@pbx.example", ["call@pbx.example"], open(sys.argv[2], "rb").read())
	PY
	check "pbx-sim logs the MakeCall from 2001 to 0312345678" wait_for 30 makecall_logged "$T/pbx/pbx.jsonl"
	check "the notification reaches alice's Maildir" \
		wait_for 60 sh -c "grep -lqs 'Status: success' '$PF'/mail/alice/new/*"
	check "the maillog shows the milter was reached through the chroot" \
		sh -c "! grep -q 'milter.*mailcti/milter.sock.*\(No such file\|Permission denied\)' '$PF/log/maillog'"
	if [ "$FAILS" -gt 0 ]; then
		for f in "$T"/ctid.log "$T"/milter.log "$PF"/log/maillog "$T"/pbx-sim.log; do
			echo "---- $f"
			tail -n 40 "$f" 2>/dev/null || true
		done
	fi
	stop_all
	trap - EXIT
	[ "$FAILS" -eq 0 ]
}

if [ "${1:-}" = --inside ]; then
	inside "$2"
	exit $?
fi

# ---- on the host ---------------------------------------------------------------

[ "$(id -u)" = 0 ] || { say "skip: needs root"; exit 77; }
command -v postfix >/dev/null || { say "skip: postfix is not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/mailcti-install-test.XXXXXX")
chmod 755 "$T"

# what the system has before: the config of its Postfix and Dovecot, and
# whether their services run
system_state() {
	find /etc/postfix /etc/dovecot -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum
	find /etc/postfix /etc/dovecot -xdev -print 2>/dev/null | sort | sed 's/^/path /'
	for pidfile in /var/spool/postfix/pid/master.pid /run/dovecot/master.pid; do
		pid=$(sed -n '1s/ //gp' "$pidfile" 2>/dev/null || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "running $pidfile"; fi
	done
}

purge() { dpkg --purge $PACKAGES >>"$T/dpkg.log" 2>&1; }
# dpkg triggers must not start the system's services (dovecot-core restarts
# Dovecot when a plugin arrives): a policy-rc.d that denies, unless the host
# has its own, for the time of the test only
POLICY=/usr/sbin/policy-rc.d
own_policy=no
cleanup() {
	if dpkg-query -W -f='${Status}\n' $PACKAGES 2>/dev/null | grep -q 'ok installed\|config-files'; then
		purge || true
	fi
	if [ "$own_policy" = yes ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\n# mailcti install test: start no service\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	own_policy=yes
fi

if dpkg-query -W -f='${Status}\n' $PACKAGES 2>/dev/null | grep -q 'installed\|config-files'; then
	say "purging mailcti packages left by an earlier run"
	purge
fi
system_state >"$T/system-before"

if [ -n "${1:-}" ]; then
	DEBS=$(cd "$1" && pwd)
else
	DEBS="$T/debs"
	start=$(date +%s)
	"$SRC/scripts/deb" "$DEBS"
	say "scripts/deb took $(($(date +%s) - start)) s"
fi
set -- "$DEBS"/mailcti_*.deb "$DEBS"/mailcti-dovecot_*.deb "$DEBS"/mailcti-pbx-sim_*.deb
for f in "$@"; do [ -f "$f" ] || { fail "package $f built"; echo "$PASSES passed, $FAILS failed"; exit 1; }; done
check "the plugin package carries no .la" sh -c "! dpkg-deb -c '$DEBS'/mailcti-dovecot_*.deb | grep -q '\.la$'"

if ! dpkg -i "$@" >"$T/dpkg.log" 2>&1; then
	say "dpkg -i left dependencies missing: apt-get -f install"
	DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q --no-install-recommends >>"$T/dpkg.log" 2>&1
fi
check "the packages are installed" sh -c "dpkg-query -W -f='\${Status}\n' $PACKAGES | grep -vc 'install ok installed' | grep -qx 0"
check "the mailcti system user exists" sh -c 'getent passwd mailcti | grep -q ":/var/lib/mailcti:/usr/sbin/nologin$"'
check "/var/lib/mailcti is 750 mailcti:mailcti ($(mode_of /var/lib/mailcti))" test "$(mode_of /var/lib/mailcti)" = "750 mailcti:mailcti"
check "/var/spool/mailcti is 750 mailcti:mailcti ($(mode_of /var/spool/mailcti))" test "$(mode_of /var/spool/mailcti)" = "750 mailcti:mailcti"
check "/var/spool/postfix/mailcti is 2750 mailcti:postfix ($(mode_of /var/spool/postfix/mailcti))" \
	test "$(mode_of /var/spool/postfix/mailcti)" = "2750 mailcti:postfix"
check "/etc/mailcti/mailcti.conf is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' mailcti | grep -q ' /etc/mailcti/mailcti.conf '"
check "the packaged config puts the milter socket inside the chroot" \
	grep -q '^socket=unix:/var/spool/postfix/mailcti/milter.sock$' /etc/mailcti/mailcti.conf
check "no service of ours was started by the install" sh -c '! pgrep -f "^(/usr/sbin/ctid|/usr/sbin/cti-milter|/usr/bin/pbx-sim) " >/dev/null'

inside_rc=0
unshare --mount --propagation private -- bash "$0" --inside "$T" >"$T/inside.log" 2>&1 || inside_rc=$?
cat "$T/inside.log"
PASSES=$((PASSES + $(grep -c '^ok    ' "$T/inside.log" || true)))
FAILS=$((FAILS + $(grep -c '^FAIL  ' "$T/inside.log" || true)))
if [ "$inside_rc" != 0 ] && ! grep -q '^FAIL  ' "$T/inside.log"; then
	fail "the steps in the private mount namespace ended early (rc $inside_rc)"
fi

purge || fail "dpkg --purge $PACKAGES"
trap - EXIT
if [ "$own_policy" = yes ]; then rm -f "$POLICY"; fi
check "the packages are gone" sh -c "! dpkg-query -W -f='\${Status}\n' $PACKAGES 2>/dev/null | grep -q installed"
for d in /etc/mailcti /var/lib/mailcti /var/spool/mailcti /var/spool/postfix/mailcti /usr/sbin/ctid; do
	check "purge removed $d" test ! -e "$d"
done
system_state >"$T/system-after"
check "the system's Postfix and Dovecot are untouched (config checksums, services)" \
	diff -u "$T/system-before" "$T/system-after"
check "no ctid, cti-milter or pbx-sim of the packages is left running" sh -c '! pgrep -f "^(/usr/sbin/ctid|/usr/sbin/cti-milter|/usr/bin/pbx-sim) " >/dev/null'

if [ "$FAILS" -eq 0 ]; then
	rm -rf "$T"
else
	say "files kept in $T"
fi
echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
