"""firmware package of Jemput."""
