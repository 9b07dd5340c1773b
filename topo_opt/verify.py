"""Independent re-checks of solutions, without any solver: plain Python and numpy.

Each `verify_*` returns a list of violations (empty = valid), one readable sentence each, so tests
can assert on them and `solve` can refuse to write an invalid design.
"""

# --- placement -------------------------------------------------------------------------------------


# --- provisioning ----------------------------------------------------------------------------------
