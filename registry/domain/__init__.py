"""The practice's rules with no Flask and no session: fields, states, validation, errors.

Everything here is plain Python: what a record holds and how it is checked, the states a
model passes through, and the errors a write can end in. `registry.services` and
`registry.interchange` import it; it imports neither (checked by import-linter, setup.cfg).
"""
