# Link flags of the image/storage layer (native/src/image, native/src/storage). zlib and zstd decompress
# layers; libcrypto hashes them (SHA-256 with SHA-NI). All three ship static archives in Debian's zlib1g-dev,
# libzstd-dev and libssl-dev. Included by native/GNUmakefile (GNU make reads it before Makefile), or by
# `-include image.mk` in the Makefile; the guard keeps a double include harmless.
ifndef BE_IMAGE_MK
BE_IMAGE_MK := 1
IMAGE_LIBS := -lzstd -lz -lcrypto
LIBS_STATIC += $(IMAGE_LIBS)
LIBS_ASAN += $(IMAGE_LIBS)
endif
