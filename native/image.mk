# Link flags of the image/storage layer (native/src/image, native/src/storage), included by native/Makefile
# (`-include image.mk`). zlib and zstd decompress layers; libcrypto hashes them (SHA-256 with SHA-NI).
# All three ship static archives in Debian's zlib1g-dev, libzstd-dev and libssl-dev.
IMAGE_LIBS := -lzstd -lz -lcrypto
LIBS_STATIC += $(IMAGE_LIBS)
LIBS_ASAN += $(IMAGE_LIBS)
