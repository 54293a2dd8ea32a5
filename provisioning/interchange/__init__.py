"""Records as the national system's AFIS/ABIS reads them: ANSI/NIST-ITL transactions and
ISO/IEC 19794 images in CBEFF, written by `jemput-prov export --format nist|iso`.

Why a package of its own: an interchange export opens bodies with the authority's private
key and turns them into other standards' files, a job apart from verifying and counting.
It reads the collector database and the district store only through their public reads
(`chains`, `record_bytes`), trusts only what `storage.verify.Verifier` and
`storage.record.open_record` accept, and keeps the third-party codecs (WSQ, nistitl) behind
the `interchange` extra, imported when an export runs.  Field by field: docs/interchange.md.
"""
