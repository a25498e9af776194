"""The data that ships inside the package: translation catalogues, consent texts, built-in surveys.

Everything is found here, next to this module, so it reads the same from a checkout and from an
installed wheel. The förbund's own survey files live elsewhere (``SAMVERKAN_SURVEYS_DIR``), passed
in by the composition root.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Babel catalogues: ``locales/<lang>/LC_MESSAGES/*.po``.
LOCALES = HERE / "locales"
#: Consent texts: ``consents/<kind>/v<N>.<lang>.md``.
CONSENTS = HERE / "consents"
#: The built-in survey definitions (``default.yaml``) and the theme codebook (``codebook.yaml``).
SURVEYS = HERE / "surveys"
