"""Gradio page for browsing the shop's knowledge (the chat arrives with the turn service)."""

from __future__ import annotations

from typing import Any

from assistant.components import Components


def build_shop_ui(components: Components) -> Any:
    import gradio as gr

    def search(query: str, kind: str) -> str:
        if not query.strip():
            return "Type a question or a product."
        hits = components.knowledge.search(query, "products" if kind == "Products" else "policies", 5)
        if not hits:
            return "Nothing found."
        lines = []
        for hit in hits:
            c = hit.citation
            if hit.kind == "products":
                lines.append(f"**{c['name']}** — {hit.metadata.get('price')} {hit.metadata.get('currency')} "
                             f"(score {hit.score:.2f})")
            else:
                lines.append(f"**{c['heading']}** _[{c['source']}]_ (score {hit.score:.2f})\n\n> "
                             + hit.text.split("\n", 2)[-1][:400])
        return "\n\n".join(lines)

    with gr.Blocks(title="Concierge") as blocks:
        gr.Markdown("# Concierge\nSearch the shop's products and policies.")
        with gr.Row():
            query = gr.Textbox(label="Question", scale=4)
            kind = gr.Radio(["Products", "Policies"], value="Products", label="Search", scale=1)
        out = gr.Markdown()
        query.submit(search, [query, kind], out)
    return blocks
