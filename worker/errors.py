"""Why a request was refused. Each refusal has a kind (protocol.json `errors`), so a caller picks
its answer from the kind (Node: the HTTP status) and shows the message, which says what to do."""


class UsageError(Exception):
    """A problem the user can fix; printed without a traceback."""
    kind = 'invalid'


class NotFound(UsageError):
    """The run, checkpoint or texture named does not exist."""
    kind = 'not_found'


class Conflict(UsageError):
    """Not now: the run's state forbids it (running, still needed by another run)."""
    kind = 'conflict'


class RunFolderTaken(UsageError):
    """The --out folder belongs to another run, or a trainer is writing it: refused without
    writing anything there."""
