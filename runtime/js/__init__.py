"""The JavaScript sandbox for function nodes (QuickJS via quickjs-ng)."""
