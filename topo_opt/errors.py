"""Exception tree; the CLI maps each branch to an exit code."""


class TopoOptError(Exception):
    """Base of every error the tool reports as one line."""

    exit_code = 1


class InstanceError(TopoOptError):
    """Bad input: a file, a field or a value. Exit 2."""

    exit_code = 2

    def __init__(self, file: str, field: str, message: str):
        self.file, self.field, self.message = file, field, message
        where = f"{file}: {field}: " if field else f"{file}: "
        super().__init__(where + message)


class InfeasibleError(TopoOptError):
    """The instance cannot be satisfied; the message names the binding limit. Exit 3."""

    exit_code = 3


class SolverError(TopoOptError):
    """A solver failed for a reason other than infeasibility. Exit 1."""

    exit_code = 1
