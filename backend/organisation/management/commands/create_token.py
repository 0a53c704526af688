from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from backend.organisation.models import Person, TokenScope
from backend.organisation.services import DEFAULT_TOKEN_DAYS, TokenError, token_create


class Command(BaseCommand):
    help = "Mint a personal API token for USERNAME. The key is printed alone on the last line, once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--scope",
            action="append",
            choices=TokenScope.values,
            help="Repeat for several (default exposure:write).",
        )
        parser.add_argument("--days", type=int, default=DEFAULT_TOKEN_DAYS)
        parser.add_argument("--name", default="command line")

    def handle(self, *args: Any, **options: Any) -> None:
        person = Person.objects.filter(username=options["username"]).first()
        if person is None:
            raise CommandError(f"No person with the username {options['username']!r}.")
        try:
            token, key = token_create(
                person=person,
                name=options["name"],
                scopes=options["scope"] or [TokenScope.EXPOSURE_WRITE],
                days=options["days"],
                now=timezone.now(),
            )
        except TokenError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"Token {token.prefix} for {person.username}, scopes {', '.join(token.scopes)}, "
            f"expires {token.expires_at:%Y-%m-%d}. Keep the key safe: it is not shown again."
        )
        self.stdout.write(key)
