"""Install and uninstall: the authorization code grant's two routes, and app/uninstalled."""
