"""capture package of Jemput."""
