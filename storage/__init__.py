"""storage package of Jemput."""
