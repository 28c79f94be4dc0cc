import json

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import ApiKey, Organization
from billing import ledger


class Command(BaseCommand):
    help = "Create (or reuse) the demo organisation with 100 credits and print a fresh API key and a curl line."

    def add_arguments(self, parser):
        parser.add_argument("--credits", type=int, default=100)

    def handle(self, credits, **options):
        org, created = Organization.objects.get_or_create(slug="demo", defaults={"name": "Demo Records"})
        if created and credits:
            ledger.grant(org, credits, note="demo organisation")
        key, plaintext = ApiKey.create(org, name="make run")
        base = settings.PUBLIC_BASE_URL
        demo_body = json.dumps({"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING",
                                "callBackUrl": f"{base}/dev/callbacks"})
        self.stdout.write(f"""
  AlbumArt is ready at {base}  (API docs: {base}/api/docs/)
  Organisation : {org.name} ({org.slug}), {ledger.account(org).available} credits available
  API key      : {plaintext}
  Webhook secret: {org.webhook_secret}

  Try it (background-only, no photo; the callback goes to the local demo receiver; TASK keeps the task's id):
    TASK=$(curl -s -X POST {base}/api/v1/cover/generate -H 'Authorization: Bearer {plaintext}' \\
      -H 'Content-Type: application/json' \\
      -d '{demo_body}' \\
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["taskId"])'); echo "$TASK"
  Poll it:
    curl -s "{base}/api/v1/cover/record-info?taskId=$TASK" -H 'Authorization: Bearer {plaintext}'
  When it has ended, the signed callback as it arrived (signatureValid: true):
    curl -s {base}/dev/callbacks
  With a photo (multipart, photo.jpg in this folder):
    curl -s -X POST {base}/api/v1/cover/generate -H 'Authorization: Bearer {plaintext}' \\
      -F genre=rnb -F text_artist='Layla Moore' -F text_album='Velvet Hours' -F source_image=@photo.jpg
""")
