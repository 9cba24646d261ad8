"""A stub of the WebUI's `modules` package (the host contract in shared/webui-host.md), for CI without a WebUI."""
