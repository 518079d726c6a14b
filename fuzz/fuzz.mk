# fuzz.mk: libFuzzer targets for the request parser, the ipc decoder, the scenario parser,
# the CSTA codec and the Authentication-Results parser, built with clang straight
# from the lib sources, outside the autotools build (named fuzz.mk because the top
# .gitignore ignores every "Makefile").  Binaries go to O, never into the source tree:
#   make -f fuzz/fuzz.mk O=_build-fuzz              build every target
#   make -f fuzz/fuzz.mk O=_build-fuzz csta_fuzzer  build one
# scripts/fuzz builds with this file and runs the targets on copies of corpus/<target>/.
CC = clang
PKGS = glib-2.0 gio-2.0 gmime-3.0
FUZZ := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
LIB = $(FUZZ)/../lib
O = _build-fuzz
CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -I$(LIB) $(shell pkg-config --cflags $(PKGS))
LIBS = $(shell pkg-config --libs $(PKGS))

TARGETS = request_fuzzer ipc_fuzzer scenario_fuzzer csta_fuzzer authres_fuzzer

request_fuzzer_SRC = $(FUZZ)/request_fuzzer.c $(LIB)/request.c $(LIB)/number.c
ipc_fuzzer_SRC = $(FUZZ)/ipc_fuzzer.c $(LIB)/ipc.c
scenario_fuzzer_SRC = $(FUZZ)/scenario_fuzzer.c $(LIB)/scenario.c
csta_fuzzer_SRC = $(FUZZ)/csta_fuzzer.c $(LIB)/csta.c $(LIB)/csta-xml.c
authres_fuzzer_SRC = $(FUZZ)/authres_fuzzer.c $(LIB)/authres.c

all: $(TARGETS)

$(TARGETS): %: $(O)/%

.SECONDEXPANSION:
$(O)/%: $$(%_SRC) $(wildcard $(LIB)/*.h)
	@mkdir -p $(O)
	$(CC) $(CFLAGS) -o $@ $($*_SRC) $(LIBS)

clean:
	rm -f $(addprefix $(O)/,$(TARGETS))

.PHONY: all clean $(TARGETS)
