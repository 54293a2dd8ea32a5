"""hw_sim package of Jemput."""
