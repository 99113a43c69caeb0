"""Indexes for the strategy register's KPIs (strategy.metrics): the
conversations of some accounts opened in a period (conv_account_opened),
and their inbound messages sent in it with the sentiment, so that volume
and sentiment are index-only scans (message_inbound_time). Measured with
bench/bench_strategy.py (docs/PERFORMANCE.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0007_conversation_resolution_service_minutes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['account', 'opened_at'], name='conv_account_opened'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('direction', 'in')), fields=['account', 'sent_at', 'sentiment'],
                               name='message_inbound_time'),
        ),
    ]
