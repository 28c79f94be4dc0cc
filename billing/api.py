from datetime import datetime

from django.db.models import Sum
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from albumart.api import envelope
from billing import ledger
from billing.models import CreditEntry
from generation.schema import RESPONSES


class CreditsView(APIView):
    @extend_schema(responses=RESPONSES["credits"], operation_id="credits")
    def get(self, request):
        acct = ledger.account(request.org)
        now = timezone.now()
        month_start = datetime(now.year, now.month, 1, tzinfo=now.tzinfo)
        charged = CreditEntry.objects.filter(
            organization=request.org, kind=CreditEntry.Kind.CHARGE, created_at__gte=month_start
        ).aggregate(total=Sum("amount"))["total"] or 0
        return envelope(200, "success", {
            "balance": acct.balance, "held": acct.held, "available": acct.available, "debt": acct.debt,
            "chargedThisMonth": charged,
        })
