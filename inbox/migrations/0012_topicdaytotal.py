"""TopicDayTotal: the topic rollup added up over channels and departments, for reports of the whole
organisation; filled here from TopicDay (plain SQL that both PostgreSQL and SQLite run)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0011_topicday_report_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='TopicDayTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('term', models.CharField(max_length=40)),
                ('messages', models.PositiveIntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'term'), name='topicdaytotal_unique')],
            },
        ),
        migrations.RunSQL(
            "INSERT INTO inbox_topicdaytotal (day, term, messages) "
            "SELECT day, term, SUM(messages) FROM inbox_topicday GROUP BY day, term",
            reverse_sql=migrations.RunSQL.noop),
    ]
