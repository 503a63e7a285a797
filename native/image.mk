# Link flags of the image/storage layer (native/src/image, native/src/storage). zlib and zstd decompress
# layers; libcrypto hashes them (SHA-256 with SHA-NI). All three ship static archives in Debian's zlib1g-dev,
# libzstd-dev and libssl-dev. Included by native/GNUmakefile (GNU make reads it before Makefile), or by
# `-include image.mk` in the Makefile; the guard keeps a double include harmless.
ifndef BE_IMAGE_MK
BE_IMAGE_MK := 1
IMAGE_LIBS := -lzstd -lz -lcrypto
LIBS_STATIC += $(IMAGE_LIBS)
LIBS_ASAN += $(IMAGE_LIBS)
# A fresh machine lacks the static archives: install them the way every project script installs packages
# (under the shared apt lock), before anything links.
IMAGE_ARCHIVES := /usr/lib/x86_64-linux-gnu/libz.a /usr/lib/x86_64-linux-gnu/libzstd.a /usr/lib/x86_64-linux-gnu/libcrypto.a
ifneq ($(words $(wildcard $(IMAGE_ARCHIVES))),3)
$(info image.mk: installing zlib1g-dev libzstd-dev libssl-dev for the image layer)
IMAGE_APT := $(shell flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 zlib1g-dev libzstd-dev libssl-dev >&2 || { flock /tmp/berth-apt.lock apt-get update >&2; flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 zlib1g-dev libzstd-dev libssl-dev >&2; }; echo done)
endif

# libFuzzer harness for tar + whiteout code (native/fuzz/): `make -C native fuzz`, then
# build/fuzz/fuzz-extract -max_total_time=20 CORPUS_DIR. Needs clang (Debian package clang).
FUZZ_SRCS := $(addprefix src/image/,extract.c tar.c stream.c digest.c fsutil.c) src/utils.c src/error.c
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE= -Wall -Wextra -Werror -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined
.PHONY: fuzz
fuzz: $(BUILD)/fuzz/fuzz-extract
$(BUILD)/fuzz/fuzz-extract: fuzz/fuzz-extract.c $(FUZZ_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -o $@ fuzz/fuzz-extract.c $(FUZZ_SRCS) -lyajl -lzstd -lz -lcrypto
endif
