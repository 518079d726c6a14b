# lib.sh - what the ctictl test scripts share, sourced by each of them: the
# built ctictl ($CTICTL, or ../cli/ctictl from the t/ build dir), a private
# temporary directory $tmp removed on exit, $conf naming a config file in it
# (the script writes it), and TAP helpers: run, expect, reject, ok, fail,
# finish.  A missing ctictl or temporary directory is a hard error (exit 99).
t_name=${0##*/}
t_name=${t_name%.sh}

CTICTL=${CTICTL:-../cli/ctictl}
if [ ! -x "$CTICTL" ]; then
	echo "$t_name: $CTICTL not built" >&2
	exit 99
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$t_name.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
conf="$tmp/mailcti.conf"

failures=0
n=0
fail() {
	echo "not ok $n - $*"
	failures=$((failures + 1))
}
ok() {
	echo "ok $n - $*"
}
# run EXPECTED-STATUS DESCRIPTION ctictl-args...: output in $tmp/out, errors in $tmp/err
run() {
	want=$1 desc=$2
	shift 2
	n=$((n + 1))
	"$CTICTL" -c "$conf" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "$desc: exit $got, expected $want: $(cat "$tmp/err")"
		return 1
	fi
	ok "$desc"
}
# expect FILE PATTERN DESCRIPTION: FILE (out or err) has a line matching the grep -E PATTERN
expect() {
	grep_test yes "$@"
}
# reject FILE PATTERN DESCRIPTION: FILE has no line matching PATTERN
reject() {
	grep_test no "$@"
}
# grep_test yes|no FILE PATTERN DESCRIPTION: one test of whether FILE has a matching line
grep_test() {
	wanted=$1
	shift
	n=$((n + 1))
	found=no
	grep -Eq -- "$2" "$tmp/$1" && found=yes
	if [ "$found" = "$wanted" ]; then
		ok "$3"
	elif [ "$wanted" = yes ]; then
		fail "$3: no /$2/ in $1:"
		sed 's/^/#   /' "$tmp/$1"
	else
		fail "$3: /$2/ found in $1"
	fi
}
# finish - the TAP plan; the script's status: 0 when every test passed
finish() {
	echo "1..$n"
	[ "$failures" -eq 0 ]
}
