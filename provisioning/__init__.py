"""provisioning package of Jemput."""
