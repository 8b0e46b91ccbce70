"""JupyterLab's theme colours and fonts as CSS values with fallbacks, for every HTML provkernel shows.

A module of constants only, so that the crash diagnosis (shown at the first crash, which must stay
cheap) can use them without importing rich.
"""

UI_FONT = "var(--jp-ui-font-family,-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif)"
CODE_FONT = "var(--jp-code-font-family,Menlo,Consolas,'DejaVu Sans Mono',monospace)"
BORDER = "var(--jp-border-color2,rgba(128,128,128,.35))"
ERROR = "var(--jp-error-color1,#d32f2f)"
WARN = "var(--jp-warn-color1,#e08a1e)"
SUCCESS = "var(--jp-success-color1,#388e3c)"
INFO = "var(--jp-info-color1,#0288d1)"
ACCENT = "var(--jp-mirror-editor-keyword-color,#9c27b0)"
