#!/bin/sh
# ctictl-policy.sh - ctictl's sender and policy subcommands, end to end on a
# private config and policy DB in a temporary directory (no root, no services).
# Runs the built ctictl: $CTICTL, or ../cli/ctictl from the t/ build dir
# (see lib.sh, beside this script).
set -u

. "$(dirname "$0")/lib.sh"
printf '[policy]\ndb = %s\n' "$tmp/policy.db" >"$conf"

# usage and missing DB
run 2 "sender without verb" sender || true
run 2 "policy with unknown verb" policy frob || true
run 2 "sender grant without extension" sender grant alice@example.com || true
run 2 "policy add with a bad verdict" policy add maybe 00 || true
run 2 "policy del with a bad position" policy del 0 || true
run 1 "sender list before the DB exists" sender list
expect err "does not exist yet" "list explains the missing DB"
run 0 "help" help
expect out "sender grant IDENTITY EXTENSION" "help lists sender grant"
expect out "policy test NUMBER" "help lists policy test"

# senders and grants
run 0 "sender add" sender add Alice@Example.com --note "Alice, sales"
run 1 "sender add twice" sender add alice@example.com
expect err "already registered" "duplicate sender explained"
run 1 "sender add with a quote" sender add "x'); DROP TABLE senders; --"
expect err "not allowed" "injection identity refused"
run 0 "grant an extension" sender grant alice@example.com 2001
run 0 "grant another" sender grant alice@example.com 2002
run 0 "grant a mailbox" sender grant alice@example.com --mailbox self
run 1 "grant a bad extension" sender grant alice@example.com "2001&SIP/x"
run 1 "grant to an unknown sender" sender grant bob@example.com 2003
expect err "no sender bob@example.com" "unknown sender named"
run 0 "sender list" sender list
expect out "^alice@example.com +extensions 2001,2002 +mailboxes self +Alice, sales$" "list shows the grants"
run 0 "sender list --json" sender list --json
expect out '^  \{"identity":"alice@example.com","note":"Alice, sales","extensions":\["2001","2002"\],"mailboxes":\["self"\],"changed":[0-9]+,' "sender JSON"
run 0 "revoke" sender revoke alice@example.com 2002
run 1 "revoke again" sender revoke alice@example.com 2002
run 0 "list after revoke" sender list
expect out "extensions 2001 " "revoked extension gone"
run 0 "sender del" sender del alice@example.com
run 1 "sender del again" sender del alice@example.com
run 0 "list after del" sender list
reject out "alice" "deleted sender gone"

# the seeded default rules
run 0 "policy list" policy list
expect out "^ +1  deny   00 " "rule 1 denies 00"
expect out "^ +2  deny   \+ " "rule 2 denies +"
expect out "^ +3  deny   0900 " "rule 3 denies 0900"
expect out "^ +6  allow  any " "rule 6 allows the rest"
run 1 "test an international number" policy test "+44 20 7946 0000"
expect out "^\+442079460000: denied$" "international denied"
expect out "rule 2 \(deny \+" "the rule is named"
run 1 "test a premium number" policy test 0900-123456
expect out "rule 3 \(deny 0900" "premium rule named"
run 0 "test a national number" policy test "030 1234567"
expect out "rule 6 \(allow any number" "allow rule named"
run 1 "test a dial-string injection" policy test "500&SIP/evil"
expect err "not a number" "injection is not a number"
run 1 "test an overlong number" policy test 0301234567890123
expect out "16 digits, at most 15" "overlong number explained"
run 1 "test --json" policy test --json 09001
expect out '^\{"number":"09001","allowed":false,"rule":\{"position":3,"verdict":"deny","prefix":"0900",' "verdict JSON"

# editing rules
run 0 "add an exception first" policy add allow 0900123 --position 1 --note "our hotline"
run 0 "test the exception" policy test 09001234
expect out "rule 1 \(allow 0900123: our hotline\)" "exception matches first"
run 0 "move it behind the deny" policy move 1 4
run 1 "test after the move" policy test 09001234
expect out "rule 3 \(deny 0900" "order decides"
run 0 "del" policy del 4
run 1 "del out of range" policy del 40
expect err "no rule position 40" "bad position explained"
run 1 "add an injection prefix" policy add deny "0'; DROP TABLE rules; --"
run 0 "append deny any" policy add deny any
run 0 "list --json" policy list --json
expect out '^  \{"position":7,"verdict":"deny","prefix":"",' "appended rule last"
run 0 "reset to the configured defaults" policy reset
run 0 "list after reset" policy list
reject out "^ +7 " "reset removed the extra rule"

# configured default rules seed a new DB; international_prefix maps + to 00
printf '[policy]\ndb = %s\ndefault_rules = deny:011 deny:1900 allow:\n[routing]\ninternational_prefix = 011\n' \
	"$tmp/nanp.db" >"$tmp/nanp.conf"
n=$((n + 1))
if "$CTICTL" -c "$tmp/nanp.conf" policy reset >/dev/null 2>"$tmp/err" &&
	"$CTICTL" -c "$tmp/nanp.conf" policy test 12125550100 >"$tmp/out" 2>>"$tmp/err" &&
	! "$CTICTL" -c "$tmp/nanp.conf" policy test +442079460000 >"$tmp/out" 2>>"$tmp/err" &&
	grep -q "rule 1 (deny 011" "$tmp/out"; then
	ok "NANP default rules and + as 011"
else
	fail "NANP rules: $(cat "$tmp/err" "$tmp/out")"
fi
printf '[policy]\ndefault_rules = block:00\n' >"$tmp/bad.conf"
n=$((n + 1))
if "$CTICTL" -c "$tmp/bad.conf" policy list >/dev/null 2>"$tmp/err"; then
	fail "bad default_rules accepted"
elif grep -q "default_rules" "$tmp/err"; then
	ok "bad default_rules refused, naming the key"
else
	fail "bad default_rules: $(cat "$tmp/err")"
fi

finish
