"""Class vs BERT, the students' page (`/join?code=…`, the QR code's address): the question alone, sized for a
phone, with no sidebar and no chapter."""
from ui.boot import require_app

require_app()

from ui import join  # noqa: E402

join.join_page()
