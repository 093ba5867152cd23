"""``python -m kernel``: start mycon's Python kernel."""

from __future__ import annotations

from kernel.app import main

if __name__ == "__main__":
    main()
