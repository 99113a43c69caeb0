"""Sensitive-message detection, recall first.

A standalone detector for the six sensitive categories (legal, safety,
privacy, harassment, self-harm, press) in English, Spanish, Romanian, Danish
and Indonesian. It works on normalised text (lowercase, accents folded, so
"hărțuire", "hartuire" and "HĂRŢUIRE" are one word) with stem and phrase
patterns that allow small gaps ("datele mele personale", "keeps sending me
... messages"), so inflections and everyday phrasings count, not only the
exact words of a term list.

Recall comes first: English patterns run on every message (customers mix
languages), the message's own language's patterns on top, and every language's
when the language is unknown. A match is dropped only when a negation clearly governs it
("not a lawsuit, just a question", "no es una demanda"): a negator at most
three words before it in the same clause, and not a disclaimer followed by
"but" ("I wasn't going to ... but"). Self-harm is never negated.

The organisation's configured terms (``inbox.models.SensitiveTerm``) still
count: pass them as ``extra_terms`` (``{language: {category: [term, ...]}}``)
and they are matched with :func:`term_pattern`, the fixed matcher ("earn $"
matches "earn $500").

    detect("My solicitor will be in touch", "en")
    -> Detection(categories=["legal"], reasons=["legal: 'solicitor' (en: lawyer/solicitor/attorney)"], ...)

Categories are named as ``SensitiveTerm.Category`` names them (``self_harm``).
"""

import re
import re._constants as _c  # the pattern parser's opcodes, to index patterns by their first letters
import re._parser as _parser
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

CATEGORIES = ("legal", "safety", "privacy", "harassment", "self_harm", "press")
LANGUAGES = ("en", "es", "ro", "da", "id")
DETECTOR_VERSION = "sensitive-1"

# Small gaps between the words of a phrase: up to N words in between.
G1 = r"(?:\W+\w+){0,1}\W+"
G2 = r"(?:\W+\w+){0,2}\W+"
G3 = r"(?:\W+\w+){0,3}\W+"
G5 = r"(?:\W+\w+){0,5}\W+"

_KIN_EN = r"(?:son|daughter|kid|kids|child|children|baby|toddler|boy|girl|grandson|granddaughter|little one|newborn)"
_BODY_EN = r"(?:finger|fingers|hand|hands|face|cheek|eye|eyes|lip|lips|arm|leg|foot|feet|head|mouth|skin|throat|chin)"
_HARM_EN = (r"(?:hurt|injur\w*|cut|cuts|burn\w*|scald\w*|bleed\w*|blood\w*|chok\w*|swallow\w*|rash|blister\w*|"
            r"hospital\w*|a&e|er|stitches|shock\w*|electrocut\w*|poison\w*|sick|vomit\w*|bruis\w*|fell|fall|"
            r"trapp\w*|pinch\w*|allergic|reaction|swell\w*|swollen)")

# (regex on normalised text, human-readable label). Patterns in ``_LOCAL`` run only for their language.
PATTERNS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "en": {
        "legal": [
            (r"\b(?:lawyer|lawyers|attorney|attorneys|solicitor|solicitors|barrister|counsel)\b",
             "lawyer/solicitor/attorney"),
            (r"\b(?:sue|sues|sued|suing|lawsuit|lawsuits|litigation|litigate)\b", "sue/lawsuit"),
            (r"\blegal" + G2 + r"(?:action|steps|proceedings|route|advice|claim|team|matter|measures)\b",
             "legal action/steps"),
            (r"\b(?:court(?! shoes?)|courts|tribunal|small claims|class action|ombudsman|trading standards|"
             r"consumer (?:protection|rights|council|authority|agency|ombudsman|watchdog))\b",
             "court/ombudsman/consumer authority"),
            (r"\bletter (?:before|of) (?:action|claim)\b|\bformal notice\b|\bnotice of (?:claim|intent)\b|"
             r"\bwithout prejudice\b|\bcease and desist\b", "formal legal letter"),
            (r"\b(?:claim|case|complaint) against (?:you|your|the company)\b|\bfile (?:a|my) (?:claim|suit|case)\b",
             "claim against you"),
            (r"\breport(?:ing)? (?:you|this|your \w+) to (?:the )?(?:ftc|cma|fca|bbb|regulator|authorities|"
             r"police|ombudsman|trading standards|consumer)", "report to an authority"),
            (r"\bbreach of contract\b|\bmy (?:legal )?rights under\b|\bconsumer rights act\b|\bdamages\b",
             "contract/rights/damages"),
            (r"\b(?:see you in|take (?:you|this|it) to|taking (?:you|this|it) to) court\b", "see you in court"),
            (r"\blaw(?:s)?\b|\blaw firm\b|\blegal(?:ly)?\b|\bmy (?:consumer |legal |statutory )?rights\b",
             "law/legal/my rights"),
            (r"\b(?:authorities|regulator|regulators|watchdog|ofcom|ofgem|ftc|cma|fca|bbb|better business bureau|"
             r"citizens advice|acas|attorney general)\b", "regulator/authorities"),
            (r"\b(?:proceedings|union rep|claim for (?:the )?(?:lost|damages|compensation|costs)|compensation claim|"
             r"claim compensation)\b", "proceedings/claim"),
            (r"\b(?:my mp|a judge|let a judge|judge decide|in front of a judge)\b", "MP/judge"),
        ],
        "safety": [
            (r"\b(?:injur\w*|wounded)\b", "injury"),
            (r"\b(?:caught fire|on fire|fire(?! (?:sale|the|that|this|him|her|them|whoever|your|you|everyone))|"
             r"fires|flames?|smoke|smoking|smoked|burning smell|smell of burning|"
             r"explod\w*|explosion|sparks?|sparking|sparked|short circuit\w*)\b", "fire/smoke/explosion"),
            (r"\b(?:burn\w*|scorch\w*|charred|black marks|scald\w*|blister\w*|melt\w*|overheat\w*|"
             r"too hot to (?:touch|hold))\b",
             "burn/melt/overheat"),
            (r"\b(?:(?:got|get|getting|gave me|gives me|giving) (?:a |an )?(?:electric |nasty |small )?shock|"
             r"electric shock|shocked me|shocked (?:my|him|her)|electrocut\w*|live wire|exposed wires?)\b",
             "electric shock"),
            (r"\b(?:unsafe|dangerous|danger|hazard\w*|recall|recalled|safety (?:issue|risk|concern|problem))\b",
             "unsafe/dangerous/recall"),
            (r"\b(?:poison\w*|food poisoning|allerg\w*|anaphyla\w*|epipen|choke|choked|choking|swallowed)\b",
             "poisoning/allergy/choking"),
            (r"\b(?:glass|metal|plastic|wire|needle|bone|shard|shards|bug|insect|mould|mold|maggots?)\b" + G3
             + r"(?:in|inside)\b" + G3 + r"(?:food|jar|meal|pack|packet|bottle|drink|sandwich|salad|can|box|"
             r"burger|pizza|bag|cereal|yogh?urt|formula)", "foreign object in food"),
            (r"\b(?:found|there was|there's) (?:a )?(?:piece|bits?|shard|chunk) of (?:glass|metal|plastic|wire)",
             "foreign object"),
            (r"\b(?:sick|ill|vomit\w*|threw up|throwing up|diarrh\w*)\b" + G3 + r"(?:after|from) (?:eating|drinking)",
             "sick after eating"),
            (r"\b(?:ended up|had to go|went|rushed|taken|took (?:him|her|them|me|my \w+)|go|admitted|"
             r"spent \w+ \w+)\b" + G1
             + r"(?:to|in|at|into)\b" + G1 + r"(?:hospital|a&e|the er|emergency|urgent care)\b|"
             r"\b(?:ambulance|stitches|paramedics?|emergency room|poison control)\b",
             "hospital/ambulance"),
            (r"\b(?:carbon monoxide|gas leak|smell(?:s|ed)? of gas|leaking gas)\b", "gas"),
            (r"\b(?:bleed\w*|blood|bled|bruis\w*|concussion|broke (?:his|her|my) (?:arm|leg|wrist|nose|tooth))\b",
             "bleeding/bruise"),
            (r"\b(?:sprain\w*|fractur\w*|dislocat\w*|twisted (?:my|his|her|their) (?:ankle|knee|wrist)|broken "
             r"(?:arm|leg|wrist|ankle|bone|toe|finger|tooth|nose|collarbone))\b", "sprain/fracture"),
            (r"\b(?:buckled|collapsed|gave way|tipped over|toppled|brakes? (?:failed|gave out|stopped working|"
             r"didn't work)|popping noise|bang(?:ed)? and)\b", "structural failure"),
            (r"\b(?:heart (?:is |was )?(?:still )?(?:pounding|racing)|could have been (?:a )?(?:disaster|tragedy|"
             r"fatal|much worse|really bad)|scared the (?:life|hell|crap) out)\b", "near miss"),
            (r"\b(?:vet|vets)\b|\b(?:dog|cat|puppy|kitten|pet|rabbit|hamster)\b" + G3
             + r"(?:ill|sick|vomit\w*|poison\w*|died|hurt|injur\w*|swallow\w*|chok\w*)", "a pet hurt"),
            (r"\b(?:shatter\w*|shards?|flew off|sheared|red raw|hot (?:soup|water|oil|liquid|coffee|tea))\b",
             "shattered/scalding"),
            (r"\bwhile (?:my|our|his|her) " + _KIN_EN + r" (?:was|were) (?:in|on|using|holding|playing|sitting)\b",
             "while a child was using it"),
            (r"\b(?:tripped|fell|slipped)\b" + G3 + r"(?:over|on|down|off)\b", "fall"),
            (r"\b(?:could have|could've|nearly|almost)\b" + G1 + r"(?:killed|died|burned|burnt|hurt|injured|"
             r"electrocuted|lost (?:a|his|her|my))", "near miss"),
            (r"\b" + _KIN_EN + r"\b" + G5 + _HARM_EN + r"\b", "a child hurt"),
            (r"\b" + _HARM_EN + r"\b" + G3 + r"(?:my|his|her|our|the) " + _KIN_EN + r"\b", "a child hurt"),
            (r"\b(?:cut|burned|burnt|scalded|trapped|pinched|sliced)\b" + G2 + r"(?:my|his|her|their)\b" + G2
             + _BODY_EN + r"\b", "cut/burned a body part"),
        ],
        "privacy": [
            (r"\bpersonal (?:data|info|information|details|address)\b|\bmy (?:data|details|information|info)\b",
             "personal data"),
            (r"\bdata (?:breach|leak|protection)\b|\bbreach\w*\b|\bleak(?:ed|s|ing)?\b", "breach/leak"),
            (r"\b(?:hack|hacked|hacker|hackers|hacking)\b|\b(?:account|profile)\b" + G2
             + r"(?:taken over|compromised|hijacked|accessed|broken into)", "hacked/account taken over"),
            (r"\b(?:someone|somebody|a stranger|strangers|they)\b" + G2 + r"(?:logged|got|get|broke|broken) into",
             "someone got into an account"),
            (r"\b(?:gdpr|dsar|subject access|access request|right to be forgotten|data protection|"
             r"privacy(?! (?:screen|filter|glass|protector|film|curtain|blind|hedge))|"
             r"ico complaint)\b", "GDPR/privacy"),
            (r"\b(?:delete|erase|remove|wipe)\b" + G3 + r"(?:my|all)\b" + G2
             + r"(?:account|data|information|info|details|records)\b", "deletion request"),
            (r"\b(?:information|data|everything|info|details)\b" + G3 + r"(?:on|about) me\b", "data held about me"),
            (r"\b(?:sold|sell|selling|shared|sharing|share|passed on|gave away|giving away)\b" + G2
             + r"(?:my|our|customer|customers') (?:data|details|info|information|number|email|address|contacts)",
             "data sold/shared"),
            (r"\b(?:date of birth|birth date|dob|id number|passport|social security|ssn|national insurance|"
             r"ni number)\b", "identity data"),
            (r"\b(?:other|another) (?:users?|customers?|people)(?:'s?|s')?\b" + G2
             + r"(?:orders?|data|details|address|addresses|names?|info|information|accounts?|emails?|phone|"
             r"numbers?|invoices?|card)", "other people's data"),
            (r"\b(?:see|seeing|saw|shows?|showing|shown|got|received|sent me)\b" + G2 + r"someone else's\b" + G1
             + r"(?:order|data|details|address|account|invoice|info)", "other people's data"),
            (r"\b(?:how did|who gave|where did)\b" + G5 + r"(?:my|our) (?:number|email|address|details|data|phone)",
             "how did you get my details"),
            (r"\b(?:camera|monitor|webcam|doorbell|baby monitor|microphone|mic)\b" + G5
             + r"(?:accessed|hacked|talked|spoke|watching|recording|recorded|someone)", "device accessed"),
            (r"\b(?:spying|spy on|tracking me|tracked me|without (?:my )?(?:consent|permission))\b",
             "spying/without consent"),
            (r"\bnever (?:signed up|gave (?:you|them|it)|shared|consented|agreed|opted in)\b", "never consented"),
            (r"\b(?:posted|shared|published|exposed|visible|public|uploaded)\b" + G5
             + r"(?:my|our) (?:home |house |full |private |personal )?(?:address|house number|phone number|number|"
             r"email|photo|face|name|door|house|details)\b|\bhouse number\b|\bhome address\b", "details exposed"),
            (r"\b(?:my ex|someone|somebody|strangers?|anyone|other people|some random|a random|random people)\b"
             + G3 + r"(?:see|saw|seen|access\w*|view\w*|read|track\w*|log(?:ged)? in|emailed me|has|have|had|knew|"
             r"knows)\b", "someone else sees my data"),
            (r"\bchanged (?:my|the) (?:password|email|login|phone number)\b|\b(?:password|login details|"
             r"login)\b" + G2 + r"(?:was|were|got|been) (?:changed|reset|stolen)", "password changed"),
            (r"\bmy (?:bank|card|credit card|debit card|payment) details\b|\bstranger'?s\b", "bank details/stranger's"),
            (r"\b(?:someone|somebody|someone's|somebody's)\b" + G3 + r"(?:using|used|accessed|spent|stole|stolen|took|"
             r"redeemed|ordering|ordered) (?:with )?my\b", "someone used my account"),
            (r"\b(?:emailed|sent|posted|delivered|gave|forwarded|shared|mailed)\b" + G3 + r"to (?:a |an |the )?"
             r"(?:completely |totally )?(?:different|another|wrong|random|other) (?:person|customer|address|email|"
             r"people|user|account)\b|\b(?:my|live) location\b|\b(?:medical|health) (?:records?|data|information|"
             r"info|details)\b", "sent to the wrong person"),
            (r"\b(?:purchases|transactions|orders|payments|charges) (?:that )?i (?:never|didn't|did not) "
             r"(?:make|made|authori[sz]e|authori[sz]ed)\b|\bmy card (?:was|got|has been) (?:used|cloned|stolen|"
             r"compromised)\b", "card used by someone else"),
        ],
        "harassment": [
            (r"\bharass\w*\b|\bstalk\w*\b|\bcreep\w*\b|\bintimidat\w*\b", "harass/stalk/intimidate"),
            (r"\b(?:threat|threats|threaten\w*)\b", "threat"),
            (r"\babus\w*\b", "abuse"),
            (r"\bbull(?:y|ied|ying|ies)\b|\btroll(?:s|ed|ing)?\b|\bdox\w*\b|\bpile.on\b", "bullying/trolling"),
            (r"\b(?:keeps?|kept|won't stop|wont stop|doesn't stop|constantly|always)\b" + G2
             + r"(?:messag\w*|text\w*|call\w*|send\w*|contact\w*|dm\w*|ringing|writing|following|commenting|"
             r"showing up|turning up|coming)", "keeps contacting me"),
            (r"\b(?:messag\w*|text\w*|call\w*|dms?)\b" + G2 + r"(?:at night|at \d+ ?(?:am|pm)|in the middle of the "
             r"night|all night|every night|late at night|non.?stop|day and night)", "contacts me at night"),
            (r"\bwon't leave me alone\b|\bwont leave me alone\b|\bleave me alone\b", "won't leave me alone"),
            (r"\bfollow(?:ed|ing|s)? me\b" + r"(?!\W+(?:on|back))", "followed me"),
            (r"\bknows? where i live\b|\b(?:found|got|has) my (?:home )?address\b", "knows where I live"),
            (r"\b(?:comment\w*|remarks?)\b" + G3 + r"(?:my|about my) (?:body|looks|appearance|figure|weight|"
             r"legs|chest|boobs|bum|ass)", "comments on my body"),
            (r"\b(?:makes?|made|making) (?:\w+ )?(?:comments|remarks)\b", "makes comments"),
            (r"\basks? (?:me )?if i'?m single\b|\basked me out\b|\bhit on me\b|\bflirt\w*\b|"
             r"\b(?:touched|groped|grabbed) me\b|\bgrop\w*\b|\binappropriat\w*\b|\bsexual\w*\b|\bcatcall\w*\b",
             "unwanted advances"),
            (r"\b(?:scream\w*|shout\w*|yell\w*|swore|swearing|sworn) at\b|\bcalled me (?:a|an|names)\b|"
             r"\binsult\w*\b|\bracis\w*\b|\bslurs?\b|\bhomophob\w*\b|\bmisogyn\w*\b", "insulted/screamed at"),
            (r"\bfake (?:account|profile)\b" + G3 + r"(?:my|me)\b", "impersonated"),
            (r"\b(?:scared|afraid|frightened|terrified) (?:to|of)\b|\b(?:now )?avoid (?:going|the store|the shop)\b|"
             r"\bdon't feel safe\b|\bfeel unsafe\b", "afraid to go"),
            (r"\b(?:people|they|fans|followers)\b" + G2 + r"(?:message|messaging|sending|send) me\b" + G2
             + r"(?:abuse|hate|threats|insults)", "sent me abuse"),
            (r"\b(?:friend request|slid into|dm'?d me|dming me|messaged me on (?:my )?(?:personal|private|"
             r"instagram|insta|facebook|fb|whatsapp|snap\w*|tiktok)|found me on|"
             r"added me on)\b", "contacted me privately"),
            (r"\b(?:got|used|took|kept) my (?:number|address|details)\b" + G3 + r"(?:from|off) (?:the|my)\b",
             "used my details to contact me"),
            (r"\bcall(?:ed|ing|s)? me\b" + G1 + r"(?:ugly|fat|stupid|names|idiot|liar|bitch|slut|whore|loser|crazy|"
             r"psycho|thief|dumb|pathetic|disgusting)\b", "called me names"),
            (r"\b(?:wouldn't|would not|refused to|won't|wouldnt|didn't) (?:want to )?leave\b" + G2
             + r"(?:flat|house|home|property|room|me alone)\b", "would not leave"),
            (r"\bafter i blocked\b|\beven (?:though|after) i blocked\b|\bnew (?:accounts?|numbers?) to\b",
             "contacts me after I blocked"),
            (r"\b(?:grabbed|pushed|shoved|hit|slapped|kicked|spat at|spat on|cornered|blocked)\b" + G1
             + r"(?:me|my)\b|\b(?:wouldn't|won't|would not|didn't) let me (?:go|leave|pass)\b", "grabbed me"),
            (r"\b(?:waited|waiting|waits|parked|hanging around|lurking|turned up|showed up|shows up|turns up)\b" + G2
             + r"(?:outside|at|near) my (?:house|home|flat|door|work|car|place)\b", "waited outside my house"),
            (r"\bliking (?:all )?my\b|\bmessag\w* my (?:friends|family|partner|wife|husband|boss|mum|mom|dad)\b",
             "contacts my friends"),
            (r"\b(?:made|makes|making) me (?:feel )?(?:really |so |very )?(?:uncomfortable|unsafe|scared|afraid|"
             r"nervous|uneasy)\b|\b(?:whistled|winked|leered|stared|staring|leering) at me\b|\basked (?:me )?for my "
             r"(?:number|instagram|insta|snap\w*|address)\b|\b(?:sent|sends|sending) me (?:a )?(?:pics|pictures|"
             r"photos|nudes|videos)\b", "made me uncomfortable"),
            (r"\b(?:rude|nasty|hateful|hate|horrible|vile|sexist|creepy|disgusting|degrading|lewd) (?:comments|"
             r"messages|remarks|dms|emails|texts|jokes)\b|\bsexis\w*\b|\b(?:posting|posts|posted|spreading|spread) "
             r"(?:lies |rumou?rs |things )?about me\b|\b(?:mocked|humiliat\w*|laughed at) me\b|\bhumiliat\w*\b|"
             r"\byou'll regret\b|\bwatch your back\b|\bor else\b|\btargeted\b", "nasty comments/humiliated"),
            (r"\btell\w* me to (?:kill|hurt|off) myself\b|\bkys\b|\btouch(?:ed|ing|es)? my (?:shoulder|arm|leg|"
             r"hair|waist|back|bum|knee|hand|face)\b|\bnote on my (?:car|door)\b|\b(?:be back|come back|coming back) "
             r"for me\b|\bknows where i work\b", "told me to kill myself/touching"),
            (r"\bcome back when\b|\bwhen (?:my|i'm) (?:husband|wife|partner|boyfriend|parents) (?:isn't|is not|"
             r"aren't|are not|'s not) (?:home|in|around)\b|\bwhen i'm (?:alone|home alone)\b|\b(?:took|taking|takes) "
             r"(?:photos|pictures|pics|videos) of me\b|\b(?:filmed|filming|recorded|recording) me\b",
             "come back when I'm alone/filmed me"),
        ],
        "self_harm": [
            (r"\bsuicid\w*\b|\bkill(?:ing)? myself\b|\bself.?harm\w*\b|\bend(?:ing)? (?:my|it all|my own) life\b|"
             r"\btake my (?:own )?life\b", "suicide/kill myself"),
            (r"\b(?:hurt|harm|cut|cutting|hurting|harming) myself\b", "hurt myself"),
            (r"\bend(?:ing)? (?:it|it all|everything)\b(?! (?:with|between|now|there|here))", "end it all"),
            (r"\bbetter off without me\b|\b(?:better|easier) (?:for everyone )?(?:if|when) i(?:'m| am| was| were)? "
             r"(?:gone|dead|not (?:here|around))", "better off without me"),
            (r"\b(?:nobody|no one|noone|no-one)\b" + G1 + r"(?:would|will|'d|even)\b" + G1
             + r"(?:notice|care|miss me|miss)", "nobody would notice"),
            (r"\bif i (?:disappeared|vanished|died|was gone|were gone|wasn't here|weren't here)\b|"
             r"\bwant(?:ed)? to (?:disappear|vanish|die|sleep forever|not exist|not wake up)\b", "if I disappeared"),
            (r"\b(?:don't|dont|do not|won't|wont|not) (?:plan|planning|going|gonna|intend|expect)\w* "
             r"(?:to )?(?:be )?(?:here|around|alive)\b|\bwon't be (?:here|around|alive)\b|"
             r"\bwill not be (?:here|around)\b", "won't be around"),
            (r"\b(?:don't|dont|do not) want to (?:live|be alive|be here|exist|wake up|go on|carry on)\b|"
             r"\bno (?:point|reason) (?:in )?(?:living|going on|being here|to live|carrying on|anymore)\b|"
             r"\b(?:can't|cant|cannot) (?:go on|do this anymore|take (?:it|this|any ?more)|cope)\b",
             "don't want to live"),
            (r"\b(?:want|need) (?:it all|everything|it) to (?:stop|end)\b|\bmake it (?:all )?stop\b",
             "want it all to stop"),
            (r"\bdone with (?:everything|life|it all|living)\b|\bi(?:'m| am) done\W+done\b|\bgive up on "
             r"(?:life|everything)\b|\bgiving up on (?:life|everything)\b", "done with everything"),
            (r"\bwish i (?:was|were) dead\b|\bwish i (?:wasn't|weren't|was never|had never been) (?:here|born|alive)\b"
             r"|\btired of (?:living|being alive|life|existing)\b|\bno will to live\b", "wish I were dead"),
            (r"\b(?:goodbye|bye) (?:everyone|world|all)\b|\bthis is goodbye\b|\bmy last (?:message|post|day)\b|"
             r"\bwon't need (?:any of )?(?:it|this|them) (?:anymore|any more)?\b|\bwon't need any of\b",
             "saying goodbye"),
            (r"\b(?:overdose|pills|jump (?:off|from)|hopeless|worthless|a burden|burden to|burden on)\b",
             "hopeless/overdose"),
            (r"\bstopped (?:eating|sleeping)\b|\bwhat'?s the point\b|\bno way out\b|\bcan't see a way\b",
             "signs of crisis"),
            (r"\b(?:not|never) (?:to )?wake up\b|\b(?:i'll|i will|i'm going to|ill) be gone\b|"
             r"\bno (?:point|reason)\b" + G2 + r"(?:keep going|go on|carry on|live|living|being here|stay|"
             r"anymore|any more)\b", "not wake up/no reason to go on"),
            (r"\bgiving (?:my|all my) (?:things|stuff|belongings) away\b|\bgiving away (?:my|all my)\b|"
             r"\b(?:nobody|no one|noone) (?:cares|would care|will care|gives a)\b", "giving things away"),
            (r"\b(?:don't|do not|can't|cannot) see (?:a|any) (?:future|way out|point)\b|\bno future\b|"
             r"\bstop being (?:a|the) (?:problem|burden)\b|\b(?:problem|burden) for everyone\b|"
             r"\btonight is the night\b|\bsay (?:my )?goodbyes?\b", "no future"),
            (r"\b(?:written|writing|wrote|left) (?:a )?(?:letters?|notes?) (?:for|to) (?:my|the) (?:family|kids|"
             r"children|mum|mom|dad|wife|husband|partner)\b", "goodbye letters"),
            (r"\btired of (?:everything|it all|trying|fighting)\b|\b(?:can't|cannot|cant) keep (?:living|going|"
             r"doing this)\b|\b(?:better|happier|easier) (?:off )?(?:for \w+ )?(?:if|when|without) (?:i|me)\b|"
             r"\bhad enough of (?:life|living|everything|it all)\b|\blife (?:is not|isn't|isnt|ain't|aint) worth\b|"
             r"\bnot worth living\b|\bsleep forever\b|\bnever wake up\b", "tired of everything"),
            (r"\bnothing (?:left )?to live for\b|\bnothing left for me\b|\bend(?:ing)? things\b|"
             r"\b(?:won't|wont|not going to) be (?:a|your) (?:problem|burden|bother)\b|\bend of my (?:rope|tether)\b|"
             r"\bhate myself\b|\bnothing matters\b|\bnone of it matters\b|\bfeel (?:so )?(?:empty|numb)\b",
             "nothing to live for"),
            (r"\b(?:tired|exhausted|sick) of (?:all of it|all this|everything|living|life|it all|being alive)\b|"
             r"\b(?:can't|cant|cannot|can) keep going\b|\b(?:checking out|check out|gone) for good\b|"
             r"\bdon't care (?:what happens to me|if i live|if i die|about living)\b|\bwhat happens to me\b|"
             r"\bnot (?:be|being) (?:alive|here|around)\b", "tired of it all"),
            (r"\bwon't (?:bother|trouble|burden) (?:anyone|you|anybody|people)\b|\b(?:won't|will not|never) hear from "
             r"me again\b|\bdriv\w* (?:my car )?into (?:a|the) (?:wall|tree|river|lorry|truck)\b|\b(?:step|"
             r"stepping|jump|"
             r"jumping) in front of\b|\bgiven up on (?:everything|life|myself)\b|\bsorry for (?:being|existing)\b|"
             r"\bsorry (?:that|i) exist\b", "won't bother anyone again"),
        ],
        "press": [
            (r"\b(?:journalist|journalists|journalism|reporter|reporters|reporting on|correspondent|editor|"
             r"producer|newsroom|news desk|newspaper|magazine|broadcaster|documentary|podcast\w*|blogger|"
             r"vlogger|columnist|freelance writer|researcher.reporter)\b", "journalist/reporter/media"),
            (r"\bpress (?:enquir\w*|inquir\w*|office|team|contact|officer|department)\b|\bmedia "
             r"(?:enquir\w*|inquir\w*|contact|team|relations|request)\b|\bthe press\b(?! release)", "press enquiry"),
            (r"\b(?:for|writing|working on|preparing|researching) (?:a|an|my|our)\b" + G2
             + r"(?:story|piece|article|feature|report|segment|documentary|episode|blog post|post|newsletter|"
             r"investigation|exposé|expose)\b", "writing a story"),
            (r"\bwriting (?:about|on)\b|\b(?:an|my) article\b|\bfor publication\b", "writing about"),
            (r"\b(?:for|request for|would you|could you|can you|any|care to|like to|willing to) comment\b|"
             r"\bcomment on the record\b|\bon the record\b|\boff the record\b|\b(?:a|an|any|official|your) "
             r"statement\b|\bspokes(?:person|man|woman)\b|\binterview\w*\b|\bquote from\b|\bmy deadline\b",
             "request for comment"),
            (r"\b(?:bbc|cnn|reuters|news site|news outlet|media outlet|local news|radio|tv station|"
             r"tv channel|student paper|student newspaper|newsletter)\b", "news outlet"),
            (r"\bcomment from\b|\bcovering (?:the|this|your)\b|\bour (?:readers|listeners|viewers|audience|paper|"
             r"show|publication|outlet|channel|subscribers)\b|\bpublication\b|\b(?:youtube|tiktok) channel\b",
             "covering a story"),
            (r"\bjourno\w*\b|\bon deadline\b|\bany response to\b|\b(?:host|present|run|produce) (?:a|an|the) "
             r"(?:\w+ )?(?:show|programme|program|podcast|channel|blog|newsletter)\b|\bfeature (?:your|you|this)\b",
             "journo/deadline/show"),
        ],
    },
    "es": {
        "legal": [
            (r"\babogad\w*\b|\bletrad\w*\b|\bprocurador\w*\b", "abogado"),
            (r"\bdemand(?:a|as|ar|are|aremos|aria|o|ando|ado|ada|aros|arles|arlos)\b", "demanda"),
            (r"\bdenunci\w*\b|\bquerell\w*\b", "denuncia"),
            (r"\b(?:accion|acciones|medidas|via|vias|pasos) (?:legal|legales|judicial|judiciales)\b|"
             r"\bvia judicial\b", "acción legal"),
            (r"\btribunal\w*\b|\bjuzgado\w*\b|\bjuicio\b|\bjuez\b|\bomic\b|\bfacua\b|\bocu\b|\bprofeco\b|"
             r"\b(?:oficina|organismo|autoridad|asociacion)\w* de (?:consumo|consumidores)\b|\bconsumo\b",
             "tribunal/consumo"),
            (r"\bhoja de reclamaciones\b|\breclamacion (?:formal|judicial|oficial)\b|\bburofax\b",
             "reclamación formal"),
        ],
        "safety": [
            (r"\bherid\w*\b|\blesion\w*\b|\blastim\w*\b|\bse (?:hizo|ha hecho) dano\b|\bhizo dano\b",
             "herido/lesión"),
            (r"\bquem\w*\b|\bincendi\w*\b|\bfuego\b|\bhumo\b|\bllamas?\b|\bexplot\w*\b|\bexplosion\w*\b|"
             r"\bchispa\w*\b|\bderriti\w*\b|\bse derritio\b|\bsobrecalent\w*\b|\bardi\w*\b", "fuego/quemadura"),
            (r"\bpeligros\w*\b|\bpeligro\b|\binsegur\w*\b|\bretirad\w* del mercado\b", "peligroso"),
            (r"\bintoxica\w*\b|\benvenen\w*\b|\balergi\w*\b|\balergen\w*\b|\batragant\w*\b|\bahog\w*\b|\btrag\w*\b",
             "intoxicación/alergia"),
            (r"\b(?:un|le hizo un|se hizo un) corte\b|\bcort(?:o|ado|ada|aron|arse)\b|\bsangr\w*\b|\bpunto"
             r"s de sutura\b|\bhospital\w*\b|\burgencias\b|\bambulancia\b", "corte/hospital"),
            (r"\belectrocut\w*\b|\bdescarga\w*\b|\bcalambre\b", "descarga"),
            (r"\b(?:vidrio|cristal|metal|plastico|bicho|insecto|moho)\b" + G3 + r"(?:en|dentro)\b", "objeto extraño"),
            (r"\bmi (?:hij[oa]|nin[oa]|bebe|peque\w*)\b" + G5 + r"(?:dano|herid\w*|corte|cort\w*|quem\w*|sangr\w*|"
             r"hospital|urgencias|trag\w*|atragant\w*|alergi\w*|cay\w*)", "un niño herido"),
        ],
        "privacy": [
            (r"\b(?:entr\w*|accedi\w*|acces\w*)\b" + G2 + r"(?:mi|la) cuenta\b|\bcambi\w* (?:la|mi) contrasena\b|"
             r"\bdatos (?:personales|privados|bancarios)\b|\bmis datos\b|\bmi informacion\b", "datos personales"),
            (r"\bfiltr(?:acion|aron|ado|ada|ados|adas|o)\b|\bbrecha\w*\b|\bfuga de datos\b", "filtración"),
            (r"\bhacke\w*\b|\bjaque\w*\b|\bpirate\w*\b|\b(?:robaron|robado|entraron en|accedieron a) (?:mi )?"
             r"cuenta\b|\bsuplant\w*\b", "cuenta hackeada"),
            (r"\bprivacidad\b|\brgpd\b|\blopd\b|\bgdpr\b|\bproteccion de datos\b|\bderecho al olvido\b",
             "privacidad/RGPD"),
            (r"\b(?:dni|nie|pasaporte|fecha de nacimiento|numero de tarjeta|datos de (?:la )?tarjeta)\b",
             "DNI/tarjeta"),
            (r"\b(?:borr|elimin|suprim)\w*\b" + G3 + r"(?:mis datos|mi cuenta|mi informacion)", "borrar mis datos"),
            (r"\bvend\w*\b" + G2 + r"(?:mis|nuestros) (?:datos|numero|correo)", "vendieron mis datos"),
            (r"\bsin (?:mi )?(?:consentimiento|permiso)\b|\bespia\w*\b|\bcomo (?:consiguieron|tienen) mi\b",
             "sin consentimiento"),
            (r"\bde otra persona\b|\bde otro cliente\b|\bdatos de otr\w*\b|\bpedidos de otr\w*\b", "datos de otros"),
        ],
        "harassment": [
            (r"\bacos\w*\b|\bhostig\w*\b|\bamenaz\w*\b|\bintimid\w*\b", "acoso/amenaza"),
            (r"\bme (?:sigue|siguio|persigue|persiguio|acecha)\b", "me sigue"),
            (r"\b(?:me hace|hace|hizo|me hizo) comentarios\b|\bcomentarios\b" + G3 + r"(?:cuerpo|fisico|aspecto)",
             "comentarios"),
            (r"\bno (?:para|deja) de (?:escribirme|llamarme|mandarme|seguirme|mensajearme)\b|\bno me deja en paz\b|"
             r"\bme escribe\b" + G3 + r"(?:noche|noches|horas)", "no para de escribirme"),
            (r"\binsult\w*\b|\bme (?:grit\w*|insult\w*)\b|\bracis\w*\b|\bvejac\w*\b|\bmaltrat\w*\b|\babus\w*\b",
             "insultos/abuso"),
            (r"\bsabe donde (?:vivo|trabajo)\b|\bsubidos? de tono\b|\bmensajes (?:raros|obscenos|sexuales|"
             r"inapropiados)\b|\bme (?:manda|envia|"
             r"escribe) mensajes\b|\bme incomod\w*\b|\bse burl\w*\b|\bme humill\w*\b|"
             r"\bme (?:empuj|agarr|esper)\w*\b|\bincomod\w*\b|\b(?:tengo|me da|le tengo) miedo\b|"
             r"\bya no quiero ir sola\b|\bno quiero ir sola\b|\bme toc\w*\b|"
             r"\bsexual\w*\b|\bpiropo\w*\b", "miedo/tocamientos"),
        ],
        "self_harm": [
            (r"\bsuicid\w*\b|\bquitarme la vida\b|\bmatarme\b|\bacabar con (?:todo|mi vida)\b|\bhacerme dano\b",
             "suicidio/quitarme la vida"),
            (r"\bmejor (?:si yo no|sin mi)\b|\bestarian mejor\b|\bsi yo no estuviera\b|\bsi desapareciera\b",
             "mejor sin mí"),
            (r"\bno quiero (?:vivir|seguir|estar aqui|despertar|existir)\b|\bno (?:puedo|aguanto) mas\b|"
             r"\b(?:quiero |mejor )?desaparecer\b|\bnadie (?:me )?(?:echaria de menos|notaria|se daria cuenta)\b|"
             r"\bya no (?:voy a )?estar(?:e)?\b|\bno tiene sentido (?:nada|vivir|seguir)\b|\bsin salida\b|"
             r"\bno valgo nada\b|\bno (?:voy a )?molestar (?:a nadie|mas)\b|\bno sabran mas de mi\b|\b(?:cansad|"
             r"agotad|hart)[oa]s? de (?:vivir|todo|la vida)\b|"
             r"\bcuanto mas (?:voy a )?aguantar\b|\bcansad[oa] de (?:todo|vivir|la vida)\b|"
             r"\bno aguanto (?:esta vida|mas)\b|"
             r"\bno despertar\b|\bpara que seguir\b|\bacabar con esto\b|\bme quiero ir de este mundo\b|"
             r"\bmas facil sin mi\b|\buna carga\b|\bsentido a nada\b|\bno (?:le )?veo (?:sentido|salida)\b|"
             r"\bquiero morir\b|"
             r"\bme quiero morir\b", "no quiero vivir"),
        ],
        "press": [
            (r"\bperiodist\w*\b|\breporter\w*\b|\bredact(?:or|ora|ores|oras)\b|\bcorresponsal\w*\b|\beditor\w*\b|"
             r"\bproductor\w*\b|\bbloguer\w*\b|\bpodcast\w*\b|\bdocumental\w*\b", "periodista"),
            (r"\bperiodico\w*\b|\bdiario\b|\brevista\b|\bprensa\b|\breportaje\w*\b|\b(?:una|la) noticia\b|"
             r"\bnoticia sobre\b|\bmedios? de comunicacion\b|\bmedio digital\b|\bemisora\b|\bcadena\b|\bradio\b",
             "medio"),
            (r"\bportavoz\b|\bentrevist\w*\b|\bdeclaraciones\b|\bcomunicado\b|\barticulo sobre\b|\bun articulo\b",
             "portavoz/declaraciones"),
        ],
    },
    "ro": {
        "legal": [
            (r"\bavocat\w*\b", "avocat"),
            (r"\bjudecat\w*\b|\binstant\w*\b|\btribunal\w*\b|\bjudecatori\w*\b", "instanță/judecată"),
            (r"\banpc\b|\bprotectia consumatorului\b|\bprotectia consumatorilor\b|\bplangere (?:penala|la)\b|"
             r"\bnotificare\b|\bactiune\b|\bdaune\b|\bprocese?\b|\bprocesul (?:cu|impotriva)\b", "ANPC/plângere"),
        ],
        "safety": [
            (r"\bran(?:it|ita|iti|ite|ire|ile|a)\b|\bvatam\w*\b|\blovit\w*\b", "rănit"),
            (r"\bars(?:a|e|i|ura|uri|urile)?\b|\bincendi\w*\b|\bfoc\b|\bfum\b|\bflac\w*\b|\bexplod\w*\b|"
             r"\bexplozi\w*\b|\bscanteie?\w*\b|\bs-a topit\b|\btopit\w*\b|\bsupraincalz\w*\b|\bluat foc\b",
             "foc/arsură"),
            (r"\bpericul\w*\b|\bpericol\w*\b|\bnesigur\w*\b|\bretras\w* de pe piata\b", "periculos"),
            (r"\bintoxic\w*\b|\botrav\w*\b|\balergi\w*\b|\balergen\w*\b|\bse ineca\w*\b|\binghit\w*\b|\bsufoc\w*\b",
             "intoxicație/alergie"),
            (r"\btai(?:at|ata|etura|eturi)\b|\bi-a taiat\b|\bsanger\w*\b|\bsange\b|\bspital\w*\b|\burgent(?:a|e)\b|"
             r"\bambulant\w*\b|\bcopci\b", "tăietură/spital"),
            (r"\belectrocut\w*\b|\bcurentat\w*\b|\bm-a curentat\b|\bsoc electric\b", "electrocutare"),
            (r"\b(?:sticla|cioburi|metal|plastic|gandac|insecta|mucegai)\b" + G3 + r"(?:in|din)\b", "corp străin"),
            (r"\b(?:copil\w*|fiic\w*|fiul\w*|fiu|baiat\w*|fetit\w*|bebelus\w*|bebe)\b" + G5
             + r"(?:ranit\w*|taiat\w*|ars\w*|sanger\w*|spital\w*|urgent\w*|inghit\w*|alergi\w*|lovit\w*)",
             "un copil rănit"),
        ],
        "privacy": [
            (r"\bdate(?:le|lor)?\b" + G2 + r"personal\w*\b|\bdatele mele\b|\binformatiile mele\b",
             "date personale"),
            (r"\bscurger\w*\b|\bbrese?\w* de securitate\b|\bdivulg\w*\b|\bexpus\w*\b", "scurgere de date"),
            (r"\b(?:intrat|accesat|logat)\b" + G2 + r"cont(?:ul)? (?:meu|mea)\b|"
             r"\bhack\w*\b|\bspart\w*\b|\bspargere\b|\bcontul\b" + G3 + r"(?:accesat|preluat|furat|spart)\w*",
             "cont spart"),
            (r"\balt(?:ui|ei)? (?:client|persoane|persoana)\b|\bgdpr\b|\bconfidential\w*\b|\bintimitat\w*\b|"
             r"\bprotectia datelor\b|\bdreptul de a fi uitat\b",
             "GDPR/confidențialitate"),
            (r"\bcnp\w*\b|\bdata (?:mea )?de nastere\b|\bbuletin\w*\b|\bpasaport\w*\b",
             "CNP/buletin"),
            (r"\bsterg\w*\b" + G3 + r"(?:contul|datele|informatiile)\b", "ștergeți datele"),
            (r"\bfara (?:acordul|consimtamantul|permisiunea)\b|\bvand\w*\b" + G2 + r"datele\b", "fără acord"),
        ],
        "harassment": [
            (r"\bhartui\w*\b|\bamenint\w*\b|\bameninta\w*\b|\bintimid\w*\b", "hărțuire/amenințare"),
            (r"\bma urmar\w*\b|\bm-a urmarit\b|\bm-a urmat\b|\bma pand\w*\b", "mă urmărește"),
            (r"\b(?:imi face|face|facea|mi-a facut) comentarii\b|\bcomentarii\b" + G3 + r"(?:corp|fizic|aspect)",
             "comentarii"),
            (r"\bnu ma lasa in pace\b|\bma suna\b" + G3 + r"(?:noaptea|intruna|mereu)|\bimi scrie\b" + G3
             + r"(?:noaptea|intruna|mereu)", "nu mă lasă în pace"),
            (r"\binjur\w*\b|\bjign\w*\b|\bm-a (?:umilit|lovit|atins|impins)\b|\babuz\w*\b|\bagres\w*\b|"
             r"\brasis\w*\b|\bsexual\w*\b|\bm-a atins\b", "insulte/abuz"),
            (r"\bimi tot (?:scrie|trimite|da mesaje|suna)\b|\bma tot (?:suna|cauta)\b|\binconfortabil\b|"
             r"\bse uita la mine\b|\bimi trimite mesaje\b|\bm-a asteptat\b|\bm-a (?:prins|tras)\b|"
             r"\bmi-e frica\b|\bimi este frica\b|\bmi-e teama\b|\bnu mai vreau sa merg singura\b|"
             r"\bsingura\b", "mi-e frică"),
        ],
        "self_harm": [
            (r"\bsinucid\w*\b|\bsa ma omor\b|\bma omor\b|\bsa-mi iau viata\b|\bimi iau viata\b|"
             r"\bsa-mi fac rau\b|\bsa mor\b|\bvreau sa mor\b", "sinucidere"),
            (r"\bmai bine fara mine\b|\bfara mine\b|\bnu mai vreau sa (?:traiesc|fiu)\b|\bnu mai pot\b|"
             r"\bsa dispar\b|\bnimeni nu (?:ar observa|m-ar)\b|\bn-o sa mai fiu\b|\bnu voi mai fi\b|"
             r"\bnu mai are rost\b|\bca exist\b|\bnu o sa mai deranjez\b|\bnu mai auziti de mine\b|"
             r"\bobosit\w* de (?:tot|viata)\b|\bnicio iesire\b|\bm-am saturat de (?:tot|"
             r"viata)\b|\bnu mai suport\b|\bsa nu ma mai trezesc\b|"
             r"\bo povara\b|\bn-are rost\b|\bviata nu mai are\b|\bmai usor fara mine\b|\bnici ?un rost\b|"
             r"\bnu mai vad rostul\b|\bfara rost\b|"
             r"\bnu mai are sens\b", "mai bine fără mine"),
        ],
        "press": [
            (r"\bjurnalist\w*\b|\breporter\w*\b|\bredactor\w*\b|\bcorespondent\w*\b|\beditor\w*\b|\bproducator\w*\b|"
             r"\bblogger\w*\b|\bpodcast\w*\b|\bdocumentar\w*\b", "jurnalist"),
            (r"\bpres(?:a|ei|a)\b|\bcotidian\w*\b|\bziar\w*\b|\brevist\w*\b|\bpublicati\w*\b|\bemisiun\w*\b|"
             r"\btelevizi\w*\b|\bradio\b|\bstiri\b|\bredacti\w*\b", "presă"),
            (r"\bpurtator\w* de cuvant\b|\binterviu\w*\b|\bdeclarati\w*\b|\barticol\w*\b|\bmaterial despre\b|"
             r"\breportaj\w*\b|\bpunct de vedere\b", "purtător de cuvânt/interviu"),
        ],
    },
    "da": {
        "legal": [
            (r"\badvokat\w*\b|\bjurist\w*\b", "advokat"),
            (r"\bretssag\w*\b|\bsagsog\w*\b|\bretten\b|\bdomstol\w*\b|\bstaevn\w*\b|\bsmall claims\b|"
             r"\bforbrugerklage\w*\b|\bforbrugerombud\w*\b|\bforbrugerradet\b|\bankenaevn\w*\b|\bjuridisk\w*\b|"
             r"\bpolitianmeld\w*\b|\bmelde jer\b|\banmelde\w*\b", "retssag/ankenævn"),
        ],
        "safety": [
            (r"\bkvaest\w*\b|\bkom(?:met)? til skade\b|\bskadestue\w*\b|\bsar(?:et)?\b|\bskar\b" + G3
             + r"(?:i|min|mit|hans|hendes)\b", "kvæstet/skade"),
            (r"\bbrand\b|\bbraend\w*\b|\bforbraend\w*\b|\bild\b|\bflammer\b|\brog\b|\brogen\b|\beksplo\w*\b|"
             r"\bgnister\b|\bsmelt\w*\b|\boverophed\w*\b|\bglodende\b", "brand/forbrænding"),
            (r"\bfarlig\w*\b|\bfare\b|\busikker\w*\b|\btilbagekald\w*\b", "farlig"),
            (r"\bforgift\w*\b|\ballergi\w*\b|\bkvalt\w*\b|\bkvael\w*\b|\bslugt\w*\b|\bslugte\b", "forgiftning/allergi"),
            (r"\bblod\b|\bblodte\b|\bbloder\b|\bhospital\w*\b|\bambulance\b|\bsyet\b|\bfik (?:et )?stod\b|"
             r"\belektrisk stod\b", "blod/hospital/stød"),
            (r"\b(?:glas|glasskar|metal|plastik|insekt|skimmel)\b" + G3 + r"(?:i|inde i)\b", "fremmedlegeme"),
            (r"\b(?:min|mit|vores) (?:son|datter|barn|born|baby|lille)\b" + G5
             + r"(?:skar|skade\w*|saar\w*|sar|brand|braend\w*|blod\w*|hospital|skadestue|slugt\w*|kvael\w*)",
             "et barn kom til skade"),
        ],
        "privacy": [
            (r"\badgang til (?:min|mit|mine)\b|\bpersondata\b|\bpersonlige (?:data|oplysninger)\b|"
             r"\bmine (?:data|oplysninger)\b|"
             r"\boplysninger om mig\b", "persondata"),
            (r"\bdatalaek\w*\b|\blaek\w*\b|\bdatabrud\b|\bsikkerhedsbrud\b", "datalæk"),
            (r"\bhack\w*\b|\bkontoen\b" + G3 + r"(?:overtaget|stjalet|misbrugt)|\bmin konto\b" + G3
             + r"(?:overtaget|stjalet|misbrugt)", "hacket"),
            (r"\ben anden (?:kunde|person)\w*\b|\bandre kunders\b|\bgdpr\b|\bprivatliv\w*\b|"
             r"\bdatabeskyttelse\w*\b|\bdatatilsynet\b", "GDPR/privatliv"),
            (r"\bcpr\w*\b|\bfodselsdato\w*\b|\bpasnummer\b", "CPR/fødselsdato"),
            (r"\bslet\w*\b" + G3 + r"(?:konto|data|oplysninger)\w*", "slet mine data"),
            (r"\buden (?:mit )?samtykke\b|\bsolgt\b" + G2 + r"(?:data|oplysninger|nummer)", "uden samtykke"),
        ],
        "harassment": [
            (r"\bchikan\w*\b|\btru(?:er|et|ede|sler|sel|ende)\b|\bforfolg\w*\b|\bintimider\w*\b", "chikane/trussel"),
            (r"\bkommenterer (?:mig|min)\b|\bkommentarer\b" + G3 + r"(?:krop|udseende)", "kommenterer mig"),
            (r"\bved hvor jeg (?:bor|arbejder)\b|"
             r"\bsender mig\b" + G2 + r"beskeder\b|\bubehagelig\w*\b|\bglor pa mig\b|\bydmyg\w*\b|\bskubbede\b|"
             r"\btog fat i mig\b|\bventede (?:uden for|udenfor)\b|\btor ikke\b|\bbange\b|\butryg\w*\b|"
             r"\bkraenk\w*\b|\boverfald\w*\b|\boverskred\w*\b|\bsexchikane\b|"
             r"\braabt ad mig\b|\brabt ad mig\b|\bskreg ad mig\b|\bbandede ad mig\b|\bnedladende\b|\bracis\w*\b",
             "tør ikke/krænkende"),
            (r"\bbliver ved med at\b" + G2 + r"(?:sende|skrive|ringe|kontakte|komme|folge)\w*|"
             r"\blader mig ikke (?:vaere|i fred)\b|\bskriver til mig\b" + G3 + r"(?:natten|hele tiden|igen)|"
             r"\bringer\b" + G3 + r"(?:natten|hele tiden)", "lader mig ikke være"),
        ],
        "self_harm": [
            (r"\bselvmord\w*\b|\btage mit (?:eget )?liv\b|\bsla mig selv ihjel\b|\bgore skade pa mig selv\b|"
             r"\bskade mig selv\b", "selvmord"),
            (r"\bikke fra mig igen\b|\btil besvaer\b|\b(?:ingen|nogen) fremtid\b|\btraet af (?:det hele|livet|"
             r"alt)\b|\bmagter ikke mere\b|"
             r"\baldrig vagne\b|\bsavne mig\b|"
             r"\ben byrde\b|\bingen vej ud\b|\bikke vaerd at leve\b|\bbedre uden mig\b|\buden mig\b|"
             r"\bikke (?:vil|gider|orker) (?:at )?leve\b|\bkan ikke mere\b|"
             r"\borker ikke mere\b|\bforsvinde\b|\bingen ville (?:savne|opdage|laegge maerke)\w*\b|"
             r"\bikke vaere her\b|\bingen mening\b|\bvil (?:bare )?(?:do|sove for evigt)\b", "bedre uden mig"),
        ],
        "press": [
            (r"\bjournalist\w*\b|\breporter\w*\b|\bredaktor\w*\b|\bredaktion\w*\b|\bskribent\w*\b|\bpodcast\w*\b|"
             r"\bdokumentar\w*\b|\bblogger\w*\b|\bproducer\w*\b", "journalist"),
            (r"\bdagblad\w*\b|\bavis\w*\b|\bpresse\w*\b|\bmagasin\w*\b|\bmedie\w*\b|\bradio\b|\btv\b" + G3
             + r"(?:indslag|program)", "presse/avis"),
            (r"\btalsperson\w*\b|\binterview\w*\b|\budtalelse\w*\b|\bcitat\w*\b|\bartikel\w*\b|\bkommentar til\b|"
             r"\bskriver om\b|\bhistorie om\b", "talsperson/interview"),
        ],
    },
    "id": {
        "legal": [
            (r"\bpengacara\b|\badvokat\b|\bkuasa hukum\b|\blawyer\b", "pengacara"),
            (r"\b(?:di)?gugat\w*\b|\bgugatan\b|\b(?:me|di)?nuntut\b|\btuntut\w*\b|\bjalur hukum\b|\branah hukum\b|"
             r"\bpengadilan\b|\bsomasi\b|\bylki\b|\bbpsk\b|\blapor\w* (?:ke )?(?:polisi|ylki|bpsk|pihak berwajib)\b|"
             r"\bproses hukum\b|\btindakan hukum\b|\bbawa ke\b" + G1 + r"(?:hukum|pengadilan|pengacara)",
             "gugatan/jalur hukum"),
        ],
        "safety": [
            (r"\b(?:ter|me)?luka\w*\b|\bcedera\b|\bmelukai\b|\btergores\b|\bberdarah\b|\bdarah\b", "terluka"),
            (r"\bterbakar\b|\bkebakaran\b|\b(?:keluar|ada|muncul|percikan|jadi|nyala|bunga|kobaran) api\b|"
             r"\bberapi\b|\basap\b|\bmeledak\b|\bledak\w*\b|\bkorslet\w*\b|\bpercikan\b|"
             r"\bmeleleh\b|\bgosong\b", "terbakar/meledak"),
            (r"\bbahaya\b|\bberbahaya\b|\btidak aman\b|\bgak aman\b|\bditarik dari peredaran\b", "berbahaya"),
            (r"\bkeracunan\b|\bracun\b|\balergi\w*\b|\btersedak\b|\bketelan\b|\btertelan\b", "keracunan"),
            (r"\brumah sakit\b|\bigd\b|\bugd\b|\bambulans\b|\bdijahit\b|\b(?:ke|ter)?setrum\b|\bkesetrum\b",
             "rumah sakit/kesetrum"),
            (r"\b(?:kaca|beling|logam|besi|plastik|serangga|kecoa|belatung|jamur)\b" + G3 + r"(?:di|dalam)\b",
             "benda asing"),
            (r"\banak (?:saya|ku|aku|gue|gw)\b" + G5 + r"(?:luka\w*|melukai|berdarah|terbakar|rumah sakit|igd|"
             r"tersedak|ketelan|alergi|jatuh|sakit)", "anak terluka"),
        ],
        "privacy": [
            (r"\b(?:dilihat|diakses|dibaca|tersebar ke) orang lain\b|\bdata orang lain\b|"
             r"\bdata (?:pribadi|diri|saya|ku|aku|pelanggan)\w*\b|\bdata pribadiku\b|\binformasi pribadi\b",
             "data pribadi"),
            (r"\bbocor\w*\b|\bkebocoran\b|\bdisebar\w*\b|\btersebar\b", "kebocoran"),
            (r"\bdiretas\b|\bperetas\b|\bretas\b|\bdi-?hack\b|\bhack\w*\b|\bdibobol\b|\bdiambil alih\b", "diretas"),
            (r"\bprivasi\b|\bgdpr\b|\bperlindungan data\b|\buu pdp\b", "privasi"),
            (r"\bnomor (?:hp|telepon|wa)\b" + G3 + r"(?:disebar\w*|dibagi\w*|dijual|orang lain)|\bnik\b|\bktp\b|"
             r"\bnomor induk\b|\btanggal lahir\b|\bpaspor\b|\bnomor kartu\b", "NIK/KTP"),
            (r"\bhapus\w*\b" + G3 + r"(?:akun|data)\b", "hapus data"),
            (r"\btanpa (?:izin|persetujuan)\b|\bdijual\b" + G2 + r"(?:data|nomor)", "tanpa izin"),
        ],
        "harassment": [
            (r"\bpelecehan\b|\bdilecehkan\b|\bleceh\w*\b|\bgodain\w*\b|\bmenggoda\b|\bdigoda\w*\b|\bgodaan\b",
             "pelecehan/godain"),
            (r"\b(?:di)?ancam\w*\b|\bmengancam\b|\bteror\w*\b|\bditeror\b|\bintimidasi\b", "ancaman"),
            (r"\bdiikuti\b|\bdibuntuti\b|\bmenguntit\b|\bngikutin\b|\bdikuntit\b|\bstalk\w*\b", "diikuti"),
            (r"\b(?:tahu|tau) (?:rumah|alamat) (?:saya|aku|ku)\b|\bbakal balik lagi\b|\bjorok\b|\bmesum\b|"
             r"\bomongan kotor\b|\brisih\b|\bngeliatin\b|\bdipermalukan\b|\bdidorong\b|"
             r"\bnungguin\b" + G2 + r"rumah\b|"
             r"\bngirim pesan terus\b|\btakut\b|\b(?:gak|ga|nggak|tidak) nyaman\b|\bdihina\b|\bhina\w*\b|"
             r"\bdimaki\b|\bmaki\w*\b|"
             r"\bbully\w*\b|\bdibully\b|\bperundungan\b|\brasis\b|\bcabul\b", "takut/dihina"),
            (r"\b(?:chat|nelpon|telpon|nelfon|ngechat|sms|dm|wa|whatsapp|ngewa|neleponin)\w*\b" + G2
             + r"(?:terus|mulu|melulu|tiap (?:malam|hari)|malam-malam)\b|\b(?:udah|sudah) (?:aku|saya|gue|gw) blokir\b|"
             r"\bkomentar\b" + G3 + r"(?:badan|tubuh|fisik)", "chat terus"),
        ],
        "self_harm": [
            (r"\bbunuh diri\b|\bmengakhiri hidup\b|\bakhiri hidup\b|\bmenyakiti diri\b|\bpengen mati\b|"
             r"\bingin mati\b|\bmau mati\b", "bunuh diri"),
            (r"\bganggu (?:siapa-siapa|siapapun|kalian) lagi\b|\b(?:gak|ga|nggak|tidak) akan ganggu\b|"
             r"\budahan (?:aja|sama|dengan)\b|\b(?:sama|dengan) hidup ini\b|\bcapek (?:banget )?(?:sama|"
             r"dengan) (?:semuanya|hidup)\b|\btidur selamanya\b|\b(?:gak|ga|nggak|tidak) "
             r"bangun lagi\b|\b(?:gak|ga|nggak|tidak) ada gunanya\b|\b(?:cuma|hanya) (?:jadi )?beban\b|"
             r"\bpergi selamanya\b|\bmenyerah (?:sama|dengan) hidup\b|\b(?:gak|ga|nggak|tidak) sanggup lagi\b|"
             r"\blebih baik tanpa (?:aku|saya|gue|gw)\b|\btanpa (?:aku|saya|gue|gw)\b|\bcapek hidup\b|"
             r"\blelah hidup\b|\b(?:gak|ga|nggak|tidak|tak) kuat lagi\b|\bmenghilang\b|"
             r"\b(?:gak|ga|nggak|tidak) ada yang (?:peduli|sadar|bakal sadar)\b|\btidak ada gunanya\b|"
             r"\bputus asa\b|\b(?:pengen|pingin|ingin|mau) (?:ngilang|menghilang|hilang|ilang)\b|"
             r"\bdari dunia ini\b|\b(?:gak|ga|nggak|tidak) ada harapan\b|\bsudah tidak (?:sanggup|kuat)\b",
             "lebih baik tanpa aku"),
        ],
        "press": [
            (r"\bwartawan\w*\b|\bjurnalis\w*\b|\bredaksi\b|\bredaktur\b|\breporter\b|\bpodcast\w*\b|\bblogger\b|"
             r"\bdokumenter\b", "wartawan"),
            (r"\bkoran\b|\bmedia\b|\bpers\b|\bmajalah\b|\bportal berita\b|\bliputan\b|\bberita\b", "media"),
            (r"\bjuru bicara\b|\bwawancara\w*\b|\btanggapan resmi\b|\bpernyataan resmi\b|\bartikel\b|"
             r"\bkonfirmasi\b" + G3 + r"(?:berita|kabar|isu)", "juru bicara/wawancara"),
        ],
    },
}

# Words that, just before a term, negate it ("not a lawsuit", "no es una demanda", "bukan komplain").
_NEGATORS = frozenset({
    "not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "without",
    "ni", "nunca", "nadie", "nada", "tampoco",
    "nu", "nici", "niciodata", "nimic", "nimeni",
    "ikke", "ingen", "intet", "aldrig",
    "bukan", "tidak", "tak", "nggak", "gak", "ga", "enggak", "ngga", "tdk", "gk",
})
_DISCLAIMER = frozenset({"going", "gonna", "trying", "want", "wanted", "planning", "plan", "intend", "meaning",
                         "wanting", "hoping", "quiero", "queria", "vreau", "voiam", "vil", "ville", "mau", "ingin"})
_CONTRAST = re.compile(r"\b(?:but|however|yet|pero|sin embargo|dar|insa|men|tapi|tetapi|namun)\b")
_CLAUSE_END = re.compile(r"[.;!?\n]|\b(?:but|pero|dar|men|tapi|tetapi)\b")
_NEGATABLE = frozenset({"legal", "safety", "privacy", "harassment", "press"})
NEGATION_WINDOW = 3  # words between the negator and the term

_FOLD = str.maketrans({"æ": "ae", "ø": "o", "ß": "ss", "ł": "l", "đ": "d", "ı": "i", "œ": "oe",
                       "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "“": '"', "”": '"',
                       "–": "-", "—": "-", "ş": "s", "ţ": "t", "ș": "s", "ț": "t"})
_TOKEN = re.compile(r"\$?\d+(?:[.,]\d+)*[%$€£]?|[$€£]|\w+(?:['-]\w+)*")


def normalise(text: str) -> str:
    """Lowercase, accents folded (NFKD without combining marks; Romanian ș/ş ț/ţ, Danish æ/ø), curly
    quotes straightened, whitespace collapsed. "$", "€" and digits are kept as they are."""
    lowered = (text or "").lower()
    if not lowered.isascii():
        lowered = unicodedata.normalize("NFKD", lowered.translate(_FOLD))
        if not lowered.isascii():
            lowered = "".join(c for c in lowered if not unicodedata.combining(c))
    return " ".join(lowered.split())


def tokens(text: str) -> list[str]:
    """Words of the normalised text; "$500", "12.99", "don't" and "e-mail" stay one token each."""
    return _TOKEN.findall(normalise(text))


def term_pattern(term: str) -> re.Pattern:
    """The fixed matcher for one configured term: whole words where the term starts or ends with a word
    character, and no boundary where it starts or ends with a symbol, so "earn $" matches "earn $500"
    (a trailing ``(?!\\w)`` after "$" could never match before a digit). Spaces match any whitespace;
    the term is normalised like the text (case and accents do not matter)."""
    folded = normalise(term)
    if not folded:
        return re.compile(r"(?!x)x")
    body = r"\s+".join(re.escape(part) for part in folded.split(" "))
    prefix = r"(?<!\w)" if (folded[0].isalnum() or folded[0] == "_") else ""
    suffix = r"(?!\w)" if (folded[-1].isalnum() or folded[-1] == "_") else ""
    return re.compile(prefix + body + suffix)


@dataclass
class Detection:
    categories: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    confidence: float = 0.0
    self_harm: bool = False  # show the specialist the organisation's support resources
    negated: list[str] = field(default_factory=list)  # matches dropped because a negation governs them

    @property
    def is_sensitive(self) -> bool:
        return bool(self.categories)


PREFIX_LENGTH = 3


def _starts(items, prefix: str = "", depth: int = 0) -> set[str]:
    """The literal word prefixes (up to PREFIX_LENGTH characters) a parsed pattern can start with; a
    shorter prefix where the pattern continues with something other than a word character or a small
    set of them, "" where it could start with anything."""
    if len(prefix) >= PREFIX_LENGTH or not items or depth > 40:
        return {prefix[:PREFIX_LENGTH]}
    op, av = items[0]
    rest = list(items[1:])
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return _starts(rest, prefix, depth + 1)
    if op is _c.LITERAL:
        char = chr(av)
        return _starts(rest, prefix + char, depth + 1) if (char.isalnum() or char == "_") else {prefix}
    if op is _c.IN:
        if all(kind is _c.LITERAL and (chr(v).isalnum() or chr(v) == "_") for kind, v in av):
            return set().union(*(_starts(rest, prefix + chr(v), depth + 1) for _, v in av))
        return {prefix}
    if op is _c.BRANCH:
        return set().union(*(_starts(list(alt) + rest, prefix, depth + 1) for alt in av[1]))
    if op is _c.SUBPATTERN:
        return _starts(list(av[-1]) + rest, prefix, depth + 1)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, high, sub = av
        if low == 0:
            skipped = _starts(rest, prefix, depth + 1)
            return skipped if high == 0 else skipped | _starts(list(sub) + rest, prefix, depth + 1)
        again = [] if high == 1 else [(op, (low - 1, high if high == _c.MAXREPEAT else high - 1, sub))]
        return _starts(list(sub) + again + rest, prefix, depth + 1)
    return {prefix}


@dataclass(frozen=True)
class _Pattern:
    category: str
    language: str
    label: str
    regex: re.Pattern
    configured: bool = False  # one of the organisation's SensitiveTerm rows


@dataclass(frozen=True)
class _Index:
    """Patterns by the first letters of the word they start at: a message is checked by looking up its
    words' first one to three letters and trying only those patterns, at that word (``regex.match``),
    instead of scanning the whole text with every pattern (about ten times faster)."""
    by_prefix: dict[str, tuple[_Pattern, ...]]
    anywhere: tuple[_Pattern, ...]  # patterns with no literal start: searched in full
    merged: dict[str, tuple[_Pattern, ...]]  # filled as words are seen: candidates per first three letters


@lru_cache(maxsize=16)
def _compiled_for(language: str) -> _Index:
    """English (it crosses languages on social media) and the message's own language; every language
    when the language is unknown (short stems such as Danish "brand" or Indonesian "api" would misfire
    on English text, so a known language narrows the set)."""
    return _index(list(_patterns_for(language)))


@lru_cache(maxsize=16)
def _patterns_for(language: str) -> tuple[_Pattern, ...]:
    languages = ("en", language) if language in LANGUAGES and language != "en" else (
        ("en",) if language == "en" else LANGUAGES)
    return tuple(_Pattern(category, lang, label, re.compile(source)) for lang in languages
                 for category, patterns in PATTERNS[lang].items() for source, label in patterns)


def _index(patterns: list[_Pattern]) -> _Index:
    by_prefix: dict[str, list[_Pattern]] = {}
    anywhere: list[_Pattern] = []
    for compiled in patterns:
        starts = _starts(list(_parser.parse(compiled.regex.pattern)))
        if "" in starts:
            anywhere.append(compiled)
            continue
        for start in starts:
            by_prefix.setdefault(start, []).append(compiled)
    return _Index(by_prefix={k: tuple(v) for k, v in by_prefix.items()}, anywhere=tuple(anywhere), merged={})


_WORD_START = re.compile(r"\b\w")


def _candidates(index: _Index, head: str) -> tuple[_Pattern, ...]:
    """The patterns that may match at a word starting with ``head`` (its first three characters),
    merged once per distinct head and remembered."""
    found = index.merged.get(head)
    if found is None:
        merged: dict[int, _Pattern] = {}
        for key in (head, head[:2], head[:1]):
            for compiled in index.by_prefix.get(key, ()):
                merged.setdefault(id(compiled), compiled)
        found = index.merged[head] = tuple(merged.values())
    return found


def _matches(folded: str, index: _Index) -> list[tuple[_Pattern, re.Match]]:
    """(pattern, match) for every pattern that matches at the start of a word, in text order."""
    results = []
    merged = index.merged
    for word in _WORD_START.finditer(folded):
        start = word.start()
        head = folded[start:start + PREFIX_LENGTH]
        candidates = merged.get(head)
        if candidates is None:
            candidates = _candidates(index, head)
        for compiled in candidates:
            match = compiled.regex.match(folded, start)
            if match:
                results.append((compiled, match))
    for compiled in index.anywhere:
        results.extend((compiled, match) for match in compiled.regex.finditer(folded))
    return results


@dataclass(frozen=True)
class ExtraTerms:
    """The organisation's configured terms, compiled once: ``compile_terms(mapping)``."""
    entries: tuple[tuple[str, str, str, re.Pattern], ...]  # (language, category, term, pattern)
    by_language: dict = field(default_factory=dict, compare=False, hash=False)

    def index_for(self, language: str) -> _Index:
        """The built-in patterns for ``language`` plus the terms of the message's language and English (as
        ``inbox.triage`` matches them; all of them when the language is unknown), in one index so a
        message is read once; built once per language."""
        found = self.by_language.get(language)
        if found is None:
            known = language in {lang for lang, _, _, _ in self.entries} or language in LANGUAGES
            found = self.by_language[language] = _index(list(_patterns_for(language)) + [
                _Pattern(category, lang, term, pattern, configured=True)
                for lang, category, term, pattern in self.entries if not known or lang in (language, "en")])
        return found


def compile_terms(mapping) -> ExtraTerms:
    """``{language: {category: [term, ...]}}`` (as ``inbox.triage.sensitive_terms()`` returns it) or an
    iterable of ``(language, category, term)`` rows (``SensitiveTerm.objects.values_list(...)``)."""
    rows = []
    if isinstance(mapping, dict):
        for language, categories in mapping.items():
            for category, terms in categories.items():
                rows.extend((language, category, term) for term in terms)
    else:
        rows = list(mapping)
    return _compile_rows(tuple(sorted({(lang, cat.replace("-", "_"), term) for lang, cat, term in rows if term})))


@lru_cache(maxsize=64)
def _compile_rows(rows: tuple[tuple[str, str, str], ...]) -> ExtraTerms:
    return ExtraTerms(entries=tuple((lang, cat, term, term_pattern(term)) for lang, cat, term in rows))


def _negated(text: str, start: int, end: int) -> bool:
    """True when a negator governs the match at ``start``: at most NEGATION_WINDOW words before it in the
    same clause, and not a disclaimer later contradicted ("I wasn't going to ... but")."""
    before = text[max(0, start - 60):start]
    clause = _CLAUSE_END.split(before)[-1]
    words = re.findall(r"[\w'-]+", clause)[-(NEGATION_WINDOW + 1):]
    position = None
    for i, word in enumerate(words):
        if word in _NEGATORS or word.endswith("n't") or word.startswith("n-") or word in {"cannot", "nope"}:
            position = i
    if position is None:
        return False
    between = words[position + 1:]
    if any(w in _DISCLAIMER for w in between) and _CONTRAST.search(text, end):
        return False
    # "don't make me call my lawyer" is a threat, not a negation.
    return not any(w in {"make", "force", "let"} for w in between)


def detect(text: str, language: str = "", extra_terms=None) -> Detection:
    """Which sensitive categories ``text`` belongs to, why, and how sure.

    ``language`` is the message's language (en/es/ro/da/id; "" or another code runs every pattern);
    ``extra_terms`` the organisation's configured terms (a mapping, rows, or :func:`compile_terms`)."""
    folded = normalise(text)
    lang = (language or "").split("-")[0].lower()
    found: dict[str, list[str]] = {}
    negated: list[str] = []
    strength: dict[str, float] = {}
    if folded:
        extra = None
        if extra_terms:
            extra = extra_terms if isinstance(extra_terms, ExtraTerms) else compile_terms(extra_terms)
        index = extra.index_for(lang) if extra is not None else _compiled_for(lang)
        for compiled, match in _matches(folded, index):
            category = compiled.category
            if compiled.configured:
                hit = f"{category.replace('_', '-')}: configured term '{compiled.label}' ({compiled.language})"
            elif category in found:
                continue
            else:
                hit = f"{category.replace('_', '-')}: '{match.group(0)}' ({compiled.language}: {compiled.label})"
            if category in _NEGATABLE and _negated(folded, match.start(), match.end()):
                negated.append(hit)
                continue
            if hit not in found.setdefault(category, []):
                found[category].append(hit)
            strength[category] = max(strength.get(category, 0.0), 0.95 if compiled.configured else 0.9)
    categories = sorted(found, key=lambda c: CATEGORIES.index(c) if c in CATEGORIES else len(CATEGORIES))
    reasons = [reason for category in categories for reason in found[category]]
    if categories:
        confidence = max(strength.values())
    else:
        confidence = 0.2 if negated else 0.0
    return Detection(categories=categories, reasons=reasons, confidence=confidence,
                     self_harm="self_harm" in found, negated=negated)


def categories_of(text: str, language: str = "", extra_terms=None) -> list[str]:
    return detect(text, language, extra_terms).categories
