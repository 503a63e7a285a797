# Managed by berth: generated from the host spec. Local edits show up as drift and are overwritten.
# Attached to berth's thin pool by berth-storage.service (lvchange --metadataprofile berth-thinpool).
activation {
	thin_pool_autoextend_threshold=80
	thin_pool_autoextend_percent=20
}
