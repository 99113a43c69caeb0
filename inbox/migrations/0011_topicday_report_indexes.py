"""The reputation reports' data (issue 11): the TopicDay rollup (terms per day, channel and department,
written by ingest; ``rebuild_topic_counts`` fills it for messages stored before it) and the indexes of the
report's groupings and drill-down filters: conversations opened in a period (all, per department, influencer,
sensitive, complaints), and the inbound-message index of strategy.metrics with ``outside_service_hours`` as a
key column so coverage gaps stay an index-only scan."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0010_message_outside_service_hours'),
        ('security', '0005_socialaccount_sandbox'),
    ]

    operations = [
        migrations.CreateModel(
            name='TopicDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('department_key', models.IntegerField(default=0, help_text='Department id, 0 when none.')),
                ('term', models.CharField(max_length=40)),
                ('messages', models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RemoveIndex(
            model_name='message',
            name='message_inbound_time',
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['opened_at'], name='conv_opened'),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['department', 'opened_at'], name='conv_dept_opened'),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(condition=models.Q(('is_influencer', True)), fields=['opened_at'], name='conv_influencer_opened'),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(condition=models.Q(('is_sensitive', True)), fields=['opened_at'], name='conv_sensitive_opened'),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(condition=models.Q(('intent', 'complaint')), fields=['opened_at'], name='conv_complaint_opened'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('direction', 'in')), fields=['account', 'sent_at', 'sentiment', 'outside_service_hours'], name='message_inbound_time'),
        ),
        migrations.AddField(
            model_name='topicday',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='security.socialaccount'),
        ),
        migrations.AddIndex(
            model_name='topicday',
            index=models.Index(fields=['day', 'term'], name='topicday_day_term'),
        ),
        migrations.AddConstraint(
            model_name='topicday',
            constraint=models.UniqueConstraint(fields=('day', 'account', 'department_key', 'term'), name='topicday_unique'),
        ),
    ]
