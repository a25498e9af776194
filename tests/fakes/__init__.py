"""Test doubles of outside services: the Telegram Bot API test server."""
