#!/bin/sh
# ctictl-route.sh - ctictl's route and gateway subcommands, end to end on a
# private config and routes DB in a temporary directory (no root, no services).
# Runs the built ctictl: $CTICTL, or ../cli/ctictl from the t/ build dir
# (see lib.sh, beside this script).
set -u

. "$(dirname "$0")/lib.sh"
printf '[routing]\ndb = %s\n' "$tmp/routes.db" >"$conf"

# usage and missing DB
run 2 "no command" || true
run 2 "unknown command" frobnicate || true
run 2 "route without verb" route || true
run 2 "route add with one argument" route add 030 || true
run 1 "list before the DB exists" route list
expect err "does not exist yet" "list explains the missing DB"
run 0 "help" help
expect out "route lookup NUMBER\|ADDRESS" "help lists route lookup"
expect out "gateway add NAME ADDRESS" "help lists gateway add"

# gateways
run 0 "gateway add" gateway add gw-b call@gw-b.example --note "Berlin office"
run 0 "gateway add, upper case" gateway add GW-C Call@GW-C.example
run 1 "gateway add local is refused" gateway add local call@x.example
expect err "reserved" "local is reserved"
run 1 "gateway add bad address" gateway add gw-d nowhere
run 0 "gateway list" gateway list
expect out "^gw-b +call@gw-b.example .*Berlin office$" "gateway list shows gw-b"
expect out "^gw-c +call@gw-c.example " "gateway names and addresses are lower-cased"
run 0 "gateway list --json" gateway list --json
expect out '^  \{"name":"gw-b","address":"call@gw-b.example","note":"Berlin office","changed":[0-9]+,' "gateway JSON"

# routes
run 0 "route add number" route add "+49 30" gw-b --note "Berlin, all"
run 0 "route add national" route add 030 local
run 0 "route add default" route add default local --note "everything else"
run 0 "route add domain" route add @Example.COM gw-c
run 0 "route add address" route add bob@example.com local
run 1 "route add to an unknown gateway" route add 040 gw-x
expect err "unknown gateway 'gw-x'" "unknown gateway named"
run 1 "route add bad number" route add "03x0" local
expect err "invalid character 'x' at position 3" "bad character and position named"
run 0 "route list" route list
expect out "^\+4930 +gw-b +call@gw-b.example .*Berlin, all$" "list shows +4930"
expect out "^default +local +- " "list shows the default route"
expect out "^@example.com +gw-c " "list shows the domain"
run 0 "route list --prefix" route list --prefix 03
expect out "^030 " "prefix filter keeps 030"
reject out "4930|example" "prefix filter drops the rest"
run 0 "route list --gateway --json" route list --gateway gw-b --json
expect out '"key":"\+4930","destination":"\+4930","gateway":"gw-b","address":"call@gw-b.example","note":"Berlin, all"' "JSON list"
reject out '"gateway":"local"' "gateway filter in JSON"

# lookup
run 0 "lookup number" route lookup "+49 30 123 456"
expect out "^route: +\+4930 -> gw-b <call@gw-b.example>" "lookup winner"
expect out "^why: +longest matching prefix \+4930" "lookup why"
expect out "^  \+49301 +-$" "a longer candidate that is not in the table"
expect out "^  default +local$" "the default route is a losing candidate"
run 0 "lookup address via domain" route lookup alice@example.com
expect out "^route: +@example.com -> gw-c" "domain wins for alice"
run 0 "lookup address exact" route lookup Bob@Example.com
expect out "^route: +bob@example.com -> local" "exact address beats the domain"
run 0 "lookup --json" route lookup 0301234 --json
expect out '^\{"query":"0301234","asked":"0301234","kind":"number","why":"longest matching prefix 030' "lookup JSON"
expect out '"candidates":\[\{"key":"0301234","route":null\}' "lookup JSON candidates"
run 1 "lookup bad number" route lookup "12-a"
expect err "invalid character 'a' at position 4" "lookup names the bad character"

# del
run 0 "route del" route del "+4930"
run 1 "route del again" route del "+4930"
expect err "no prefix route '\+4930'" "del of a missing route"
run 1 "gateway del in use" gateway del gw-c
expect err "used by 1 route" "in-use gateway kept"
run 0 "route del domain" route del @example.com
run 0 "gateway del" gateway del gw-c
run 0 "lookup after del falls back to the default" route lookup +4930
expect out "^route: +default -> local" "default after del"
run 0 "route del default" route del default
run 1 "no route: exit 1" route lookup +4930
expect out "^route: +none" "no route shown"

# export / import
run 0 "export to stdout" route export
expect out "^type,key,target,note,changed$" "export header"
cp "$tmp/out" "$tmp/before.csv"
run 0 "export to a file" route export "$tmp/export.csv"
n=$((n + 1))
if cmp -s "$tmp/before.csv" "$tmp/export.csv"; then ok "file export = stdout export"; else fail "file export differs"; fi

cat >"$tmp/bad.csv" <<'CSV'
type,key,target,note,changed
gateway,gw-e,call@gw-e.example,new gateway,
route,050,gw-e,fine,
route,06x,local,bad number on line 4,
CSV
run 1 "import with a bad line" route import "$tmp/bad.csv"
expect err "line 4: destination '06x'" "bad line reported by number"
expect err "nothing changed" "import says nothing changed"
run 0 "export after the failed import" route export
n=$((n + 1))
if cmp -s "$tmp/before.csv" "$tmp/out"; then ok "failed import left the DB unchanged"; else fail "failed import changed the DB"; fi

cat >"$tmp/good.csv" <<'CSV'
gateway,gw-e,call@gw-e.example,"new, gateway",
route,050,gw-e,fine,
route,"",local,default again,
route,carol@example.org,gw-e,,1700000000
CSV
run 0 "import" route import "$tmp/good.csv"
expect out "imported 3 route\(s\) and 1 gateway\(s\)" "import counts"
run 0 "lookup after import" route lookup carol@example.org
expect out "^route: +carol@example.org -> gw-e <call@gw-e.example>" "imported address route"
run 0 "export after import" route export "$tmp/after.csv"
expect_file() {
	n=$((n + 1))
	if grep -Eq -- "$2" "$1"; then ok "$3"; else fail "$3"; fi
}
expect_file "$tmp/after.csv" '^route,carol@example.org,gw-e,"",1700000000$' "changed time kept"
expect_file "$tmp/after.csv" '^gateway,gw-e,call@gw-e.example,"new, gateway",[0-9]+$' "quoted note exported"

# round trip into a fresh DB
printf '[routing]\ndb = %s\n' "$tmp/copy.db" >"$tmp/copy.conf"
n=$((n + 1))
if "$CTICTL" -c "$tmp/copy.conf" route import "$tmp/after.csv" >/dev/null 2>"$tmp/err" &&
	"$CTICTL" -c "$tmp/copy.conf" route export "$tmp/copy.csv" 2>>"$tmp/err" &&
	cmp -s "$tmp/after.csv" "$tmp/copy.csv"; then
	ok "export round-trips through import"
else
	fail "round trip: $(cat "$tmp/err")"
fi
run 0 "import --replace from stdin" route import - --replace <<'CSV'
route,070,local,only one,
CSV
run 0 "list after replace" route list --json
expect out '"key":"070"' "replace kept the new route"
reject out '"key":"050"' "replace dropped the old routes"

# international_prefix: a leading '+' stands for 00
printf '[routing]\ndb = %s\ninternational_prefix = 00\n' "$tmp/intl.db" >"$tmp/intl.conf"
n=$((n + 1))
if "$CTICTL" -c "$tmp/intl.conf" route add "+49 30" local 2>"$tmp/err" &&
	"$CTICTL" -c "$tmp/intl.conf" route lookup 004930123 >"$tmp/out" 2>>"$tmp/err" &&
	grep -q "^route: *004930 -> local" "$tmp/out" &&
	"$CTICTL" -c "$tmp/intl.conf" route lookup +4930123 >"$tmp/out" 2>>"$tmp/err" &&
	grep -q "^route: *004930 -> local" "$tmp/out"; then
	ok "international_prefix maps + to 00 in routes and lookups"
else
	fail "international_prefix: $(cat "$tmp/err" "$tmp/out")"
fi
printf '[routing]\ndb = %s\ninternational_prefix = +0\n' "$tmp/intl.db" >"$tmp/badintl.conf"
n=$((n + 1))
"$CTICTL" -c "$tmp/badintl.conf" route list >/dev/null 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q "international_prefix" "$tmp/err"; then
	ok "a bad international_prefix exits 2"
else
	fail "bad international_prefix: $(cat "$tmp/err")"
fi

# a bad config is a usage error
printf '[routing]\nbogus = 1\n' >"$tmp/bad.conf"
n=$((n + 1))
"$CTICTL" -c "$tmp/bad.conf" route list >/dev/null 2>&1
if [ $? -eq 2 ]; then ok "bad config exits 2"; else fail "bad config did not exit 2"; fi

finish
