from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def inbox_list(request):
    return render(request, "inbox/list.html", {})
