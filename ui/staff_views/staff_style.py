"""The staff page's own styles (``gr.mount_gradio_app(..., css=STAFF_CSS)`` in ``ui.server``): what Gradio's default
theme does not give people who read the page with low vision or work it from the keyboard.

- text, links and buttons at a contrast of 4.5:1 or more (the theme's white on orange primary buttons are 2.8:1,
  its subdued text lighter than that): the primary colour is a dark blue, subdued text a dark grey;
- a focus ring that shows on every control reached by the keyboard (the theme's is faint);
- the JSON views' syntax colours dark enough to read; a replayed trace wraps instead of scrolling sideways;
  the placeholder icon of an empty plot (an ARIA name on an element without a role) is not drawn;
- the campaign table's headers break between words, never inside one;
- the copilot's conversation keeps its first message clear of the chat's toolbar (the copy icons float over the
  top right corner of the messages when the label is not drawn): the scrolling messages start below it, so no
  message, the first or one scrolled up, passes under it.

``tests/browser/test_staff_a11y.py`` checks each with axe-core and the boxes drawn in a real browser.
"""

from __future__ import annotations

from ui.chat_page import CSS

#: a dark blue: 8.6:1 on white, white on it 8.6:1
ACCENT = "#1d4ed8"
#: subdued text: 7.6:1 on white
SUBDUED = "#4b5563"
#: room above the copilot's first message for the chat's toolbar (its icons and their margins)
TOOLBAR_ROOM = "44px"

STAFF_CSS = CSS + (
    f":root,.gradio-container{{--button-primary-background-fill:{ACCENT};"
    "--button-primary-background-fill-hover:#1e40af;--button-primary-text-color:#fff;"
    f"--button-primary-border-color:{ACCENT};--color-accent:{ACCENT};--color-accent-soft:#dbeafe;"
    f"--body-text-color-subdued:{SUBDUED};--block-info-text-color:{SUBDUED};--block-title-text-color:#1f2937;"
    f"--block-label-text-color:#1f2937;--input-placeholder-color:#6b7280;--link-text-color:{ACCENT};"
    f"--link-text-color-visited:#5b21b6;--link-text-color-hover:#1e40af;--link-text-color-active:{ACCENT}}}"
    f":focus-visible{{outline:3px solid {ACCENT} !important;outline-offset:2px}}"
    f"#copilot-conversation .bubble-wrap{{margin-top:{TOOLBAR_ROOM};height:calc(100% - {TOOLBAR_ROOM})}}"
    # the JSON views' (settings, collections) syntax colours, pale orange and teal in the theme, made dark
    ".json-node{--text-color:#9a3412 !important;--string-color:#92400e !important;--number-color:#075985 !important;"
    "--bracket-color:#115e59 !important;--square-bracket-color:#991b1b !important;"
    f"--punctuation-color:{SUBDUED} !important;--line-number-color:{SUBDUED} !important}}"
    # a replayed trace's JSON wraps instead of scrolling sideways (a scrolling box must be reachable by keyboard)
    "#review-replay pre{white-space:pre-wrap !important;overflow-wrap:anywhere;overflow:visible !important}"
    # Gradio's placeholder icon in an empty plot or file carries a name on an element without a role (which
    # assistive technology does not read); the empty box says enough
    '.gradio-container .empty[aria-label="Empty value"]{display:none !important}'
    # the campaign table's headers wrap between words only (the theme breaks them anywhere: "ar/m"); the browser
    # then sizes each column to its longest word at least
    "#campaign-uplift th,#campaign-uplift th *{word-break:normal !important;overflow-wrap:normal !important;"
    "hyphens:none !important}"
)
