# Quail -- see README.md.
#
#   make                        build everything into build/
#   make setup check            (as root) install into conf-qmail, then verify
#   make test                   the whole test suite (TEST), ending "N passed, N failed"
#   make demo / demo-stop       start / stop the demo on 127.0.0.1 (./demo)
#   make instance ROOT=/dir     build and install an unprivileged instance in /dir
#   make fuzz                   libFuzzer binaries (clang) into build/fuzz/
#
# Builds are out of tree: O names the build directory and CONF the directory
# whose conf-* files it uses, so the normal build, the sanitized test build
# and any number of instances live side by side without disturbing each other.

SHELL = /bin/sh
CONF ?= .
# V=1 shows whole command lines.
Q = $(if $(V),,@)
O ?= build

CC_CMD := $(shell head -n 1 $(CONF)/conf-cc)
LD_CMD := $(shell head -n 1 $(CONF)/conf-ld)
# The test build adds sanitizers here and sets STATIC=0.
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=
STATIC ?= 1

# Programs: one top-level .c file each. Programs that need the system's
# name service (NSS: getpwnam, getspnam, initgroups) cannot be static.
PROGRAMS := $(sort $(basename $(wildcard *.c)))
DYNAMIC := qmail-getpw checkpassword
# Shell scripts: foo.sh becomes bin/foo with @QMAILHOME@ replaced by conf-qmail.
SCRIPTS := $(sort $(basename $(wildcard *.sh)))

LIBSRC := $(sort $(wildcard lib/*.c))
LIBOBJ := $(patsubst %.c,$(O)/obj/%.o,$(LIBSRC)) $(O)/obj/auto.o
TESTSRC := $(sort $(wildcard tests/*_test.c))
TESTS := $(patsubst tests/%.c,$(O)/tests/%,$(TESTSRC))
TESTBIN := $(patsubst tests/bin/%.c,$(O)/tests/bin/%,$(sort $(wildcard tests/bin/*.c)))
FUZZSRC := $(sort $(wildcard fuzz/fuzz_*.c))
REPLAY := $(patsubst fuzz/%.c,$(O)/replay/%,$(FUZZSRC))
FUZZ := $(patsubst fuzz/%.c,$(O)/fuzz/%,$(FUZZSRC))

BINS := $(addprefix $(O)/bin/,$(PROGRAMS) $(SCRIPTS))

COMPILE = $(CC_CMD) $(EXTRA_CFLAGS) -MMD -MP -Ilib
# A static link drops the -static* flags for DYNAMIC programs and when
# STATIC=0 (sanitizers cannot link statically).
ld_for = $(if $(filter 0,$(STATIC))$(filter $(1),$(DYNAMIC)),$(filter-out -static -static-pie,$(LD_CMD)),$(LD_CMD)) $(EXTRA_LDFLAGS)
# Extra libraries, per program: LIBS_name = ...
LIBS_checkpassword = -lcrypt
# lib/vcrypt (crypt(3) for vpasswd); libcrypt.a links statically.
LIBS_vadduser = -lcrypt
LIBS_vpasswd = -lcrypt
LIBS_vmoduser = -lcrypt
LIBS_vchkpw = -lcrypt
LIBS_vadddomain = -lcrypt
LIBS_vcrypt_test = -lcrypt
# lib/dns uses res_query: in libc itself since glibc 2.34, in libresolv
# before (static linking of it works: res_* need no NSS).
LIBS_qmail-remote = -lresolv

.PHONY: all tests replay fuzz setup check test instance clean print-programs demo demo-stop
.DELETE_ON_ERROR:

all: $(BINS)

$(O)/auto.c: tools/mkauto.sh $(CONF)/conf-qmail $(CONF)/conf-users $(CONF)/conf-groups \
		$(CONF)/conf-split $(CONF)/conf-spawn $(CONF)/conf-patrn $(CONF)/conf-break \
		$(CONF)/conf-vpopmail
	@mkdir -p $(@D)
	$(Q)sh tools/mkauto.sh $(CONF) > $@.tmp && mv $@.tmp $@

$(O)/obj/auto.o: $(O)/auto.c $(CONF)/conf-cc
	@echo "  cc    $@"
	$(Q)$(COMPILE) -c -o $@ $<

$(O)/obj/%.o: %.c $(CONF)/conf-cc
	@mkdir -p $(@D)
	@echo "  cc    $@"
	$(Q)$(COMPILE) -c -o $@ $<

$(O)/libq.a: $(LIBOBJ)
	@rm -f $@
	@echo "  ar    $@"
	$(Q)ar rcs $@ $(LIBOBJ)

$(O)/bin/%: $(O)/obj/%.o $(O)/libq.a $(CONF)/conf-ld
	@mkdir -p $(@D)
	@echo "  ld    $@"
	$(Q)$(call ld_for,$*) -o $@ $< $(O)/libq.a $(LIBS_$*)

$(O)/bin/%: %.sh $(O)/auto.c
	@mkdir -p $(@D)
	$(Q)sed "s}@QMAILHOME@}$$(sed -n 's/^const char auto_qmail\[\] = "\(.*\)";/\1/p' $(O)/auto.c)}g" $< > $@.tmp
	$(Q)chmod 755 $@.tmp && mv $@.tmp $@

# ---- tests and fuzzing ----

tests: $(TESTS) $(TESTBIN) $(BINS)

$(O)/tests/%: $(O)/obj/tests/%.o $(O)/libq.a
	@mkdir -p $(@D)
	@echo "  ld    $@"
	$(Q)$(call ld_for,none) -o $@ $< $(O)/libq.a $(LIBS_$*)

replay: $(REPLAY)

$(O)/replay/%: $(O)/obj/fuzz/%.o $(O)/obj/fuzz/replay.o $(O)/obj/fuzz/memfd.o $(O)/libq.a
	@mkdir -p $(@D)
	@echo "  ld    $@"
	$(Q)$(call ld_for,none) -o $@ $< $(O)/obj/fuzz/replay.o $(O)/obj/fuzz/memfd.o $(O)/libq.a

# libFuzzer builds need clang; they go in their own directory. Every lib
# file is compiled in, so lib/vcrypt needs -lcrypt here.
FUZZ_CC = clang -std=c99 -g -O1 -D_DEFAULT_SOURCE -Ilib -fsanitize=fuzzer,address,undefined
fuzz: $(FUZZ)

$(O)/fuzz/%: fuzz/%.c fuzz/fuzz.h fuzz/memfd.c $(LIBSRC) $(wildcard lib/*.h) $(O)/auto.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $< fuzz/memfd.c $(LIBSRC) $(O)/auto.c -lcrypt

# ---- install ----

setup: all
	sh tools/install.sh $(O) $(CONF)
	sh tools/mkservice.sh $(CONF)

check:
	sh tools/instcheck.sh $(O) $(CONF)

test:
	sh ./TEST

# The whole system on 127.0.0.1 under svscan, from ./demo (tools/demo.sh).
demo:
	@sh tools/demo.sh start

demo-stop:
	@sh tools/demo.sh stop

# An unprivileged instance: every role is the invoking user, conf-qmail is
# ROOT, and the build lives in its own directory (INST_O).
INST_O ?= $(O)/inst-$(shell printf '%s' '$(ROOT)' | cksum | cut -d' ' -f1)
instance:
	@test -n "$(ROOT)" || { echo "usage: make instance ROOT=/absolute/dir" >&2; exit 100; }
	@case "$(ROOT)" in /*) ;; *) echo "make instance: ROOT must be an absolute path" >&2; exit 100 ;; esac
	sh tools/mkconf-instance.sh $(CONF) $(INST_O)/conf '$(ROOT)'
	$(MAKE) CONF=$(INST_O)/conf O=$(INST_O) all
	sh tools/install.sh $(INST_O) $(INST_O)/conf
	sh tools/instcheck.sh $(INST_O) $(INST_O)/conf

clean:
	rm -rf build tests/build

print-programs:
	@echo $(PROGRAMS) $(SCRIPTS)

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
