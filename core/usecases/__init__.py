"""The handlers: one per command of ``core.commands``, each ``async __call__(command)``.

Handlers take the ports and settings when built, check permissions, talk to GitHub first,
store, and record domain events (``core.events.record``). ``core.wiring.build_bus`` builds one
of each and registers it on the bus; entry points only ever call ``bus.handle(command)``.
"""
