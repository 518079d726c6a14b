#!/bin/sh
# run-tests.sh - "make check" entry for pbx-sim: runs the Python conformance and
# interop tests (test_pbxsim.py) against the pbx-sim built in this tree.
# Run from the build's t/ directory (as make check does), or set PBX_SIM.
here=$(dirname "$0")
bin=${PBX_SIM:-../pbx-sim/pbx-sim}
if [ ! -x "$bin" ]; then
	echo "run-tests.sh: $bin not built" >&2
	exit 99
fi
exec "${PYTHON3:-python3}" "$here/test_pbxsim.py" --binary "$bin"
