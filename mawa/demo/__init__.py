"""The demo scenario (``mawa setup``, ``mawa demo``): sites, one account per role, then every
app's own demo data, the accountability compartment's included. It loads every app, so it is
wiring: it sits above all of them and nothing imports it."""
