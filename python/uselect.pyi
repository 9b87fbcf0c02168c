"""Type stub for uselect: MicroPython's uselect on CPython."""
from typing import Any, Iterator, List, Protocol, Sequence, Tuple, Union, final

POLLIN: int  # 1: readable
POLLOUT: int  # 4: writable
POLLERR: int  # 8: an error; reported whether asked for or not
POLLHUP: int  # 16: hung up; reported whether asked for or not
POLLNVAL: int  # 32: not open; seen by poll(2), never by epoll

class _HasFileno(Protocol):
    def fileno(self) -> int: ...

_Pollable = Union[int, _HasFileno]

@final
class poll:
    """uselect.poll() makes one (at run time a function, not the type)."""

    def __init__(self) -> None: ...

    def register(self, obj: _Pollable, eventmask: int = ..., /) -> None: ...
    def unregister(self, obj: _Pollable, /) -> None: ...
    def modify(self, obj: _Pollable, eventmask: int, /) -> None: ...
    def poll(self, timeout: int | None = -1, /) -> List[Tuple[Any, int]]: ...
    def ipoll(
        self, timeout: int | None = -1, flags: int = 0, /
    ) -> Iterator[Tuple[Any, int]]: ...

def select(
    rlist: Sequence[_Pollable],
    wlist: Sequence[_Pollable],
    xlist: Sequence[_Pollable],
    timeout: float | None = None,
    /,
) -> Tuple[List[Any], List[Any], List[Any]]: ...
