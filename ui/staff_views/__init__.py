"""The staff views (Gradio, mounted at ``/staff``): one module per tab, assembled by ``staff_page``."""

from ui.staff_views.staff_page import StaffViews, build_staff_ui

__all__ = ["StaffViews", "build_staff_ui"]
