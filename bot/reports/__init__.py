"""Pure reporting core for `/approvals`, App Home and `holdfast audit export`: parsing, figures, exports."""
