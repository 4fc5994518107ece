"""What the browser tests and the tools (benchmarks, deploy checks, screenshots) share: a real `streamlit run`
server, a headless Chromium to drive it, and walks through the app. Imports nothing from `tests/`."""
