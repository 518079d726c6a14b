# fuzz.mk: libFuzzer targets for the request parser, the ipc decoder, the scenario parser,
# the CSTA codec and the Authentication-Results parser, built
# with clang straight from the lib sources, outside the autotools build (named
# fuzz.mk because the top .gitignore ignores every "Makefile"):
#   make -C fuzz -f fuzz.mk          build both targets
#   make -C fuzz -f fuzz.mk run      run each for FUZZ_SECONDS (default 60) on its corpus copy
# The seed corpora live in corpus/<target>/; new findings go to out/<target>/.
CC = clang
PKGS = glib-2.0 gio-2.0 gmime-3.0
LIB = ../lib
CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$(LIB) $(shell pkg-config --cflags $(PKGS))
LIBS = $(shell pkg-config --libs $(PKGS))
FUZZ_SECONDS = 60

all: request_fuzzer ipc_fuzzer scenario_fuzzer csta_fuzzer authres_fuzzer

request_fuzzer: request_fuzzer.c $(LIB)/request.c $(LIB)/number.c
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

ipc_fuzzer: ipc_fuzzer.c $(LIB)/ipc.c
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

scenario_fuzzer: scenario_fuzzer.c $(LIB)/scenario.c
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

csta_fuzzer: csta_fuzzer.c $(LIB)/csta.c $(LIB)/csta-xml.c
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

authres_fuzzer: authres_fuzzer.c $(LIB)/authres.c
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

run: all
	mkdir -p out/request out/ipc out/scenario out/csta out/authres
	./request_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=4096 out/request corpus/request
	./ipc_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=8192 out/ipc corpus/ipc
	./csta_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=8192 out/csta corpus/csta
	./authres_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=4096 out/authres corpus/authres
	./scenario_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -dict=scenario.dict out/scenario corpus/scenario

clean:
	rm -rf request_fuzzer ipc_fuzzer scenario_fuzzer csta_fuzzer authres_fuzzer out crash-* leak-* timeout-* oom-*

.PHONY: all run clean
