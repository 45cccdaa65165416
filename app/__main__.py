"""``python -m app`` starts the GUI."""

import sys

from app.main import main

sys.exit(main())
