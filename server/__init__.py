"""investor-chat server node: REST API, Socket.IO rooms and the built web client on aiohttp."""
