"""Hand-written cue lexicon: domain phrases and synonyms that point at each cause.

The classifier counts these per cause, so a phrase written by someone else ("no driver showed",
"driver no-show") lands on the same feature as the training wording ("pickup missed"). Patterns
are regular expressions matched on the lower-cased raw text; X12 codes are left to the
structured features, because two-letter tokens such as "CA" also name places.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from agent.classifiers.cleared import cleared_spans, is_cleared
from agent.classifiers.cues_foreign import FOREIGN_CUES
from agent.classifiers.facts import same_figure

CUES: dict[str, tuple[str, ...]] = {
    "carrier_cutoff_missed": (
        r"(?:pickup|collection) window (?:was )?missed",
        r"missed (?:the )?(?:pickup|collection) window",
        r"(?:truck|driver|carrier) (?:never )?(?:showed|arrived) (?:up )?(?:late|after)",
        r"(?:truck|driver|carrier) never (?:showed|came|arrived)",
        r"(?:not|never) picked up",
        r"left without (?:the )?(?:load|freight|our freight|pallets)",
        r"(?:load|freight|pallets) (?:left|still) (?:behind|on the floor|in the lane)",
        r"(?:dock|door) appointment missed",
        r"missed (?:the |our )?(?:dock )?appointment",
        r"(?:ltl|ftl|parcel) cut-?off",
        r"cut-?off (?:time )?(?:passed|elapsed)",
        r"after (?:the )?last (?:pickup|collection)",
        r"no (?:equipment|empty trailer|tractor)",
        r"roll(?:ed)? (?:to|over to) (?:the )?next day",
        r"ready (?:to ship|for pickup) (?:since|at|before)",
        r"trailer (?:was |is )?full",
        r"full trailer",
        r"no trailer",
        r"trailer not available",
        r"no driver",
        r"driver (?:left|departed|no[- ]?show|did not show|didn'?t show)",
        r"missed (?:the )?(?:pickup|pick-up|cutoff|cut-off|collection)",
        r"pick-?up (?:was )?missed",
        r"cut-?off (?:was )?missed",
        r"after (?:the )?cut-?off",
        r"left (?:at|before) (?:the )?cut-?off",
        r"no[- ]show",
        r"not collected",
        r"(?:pickup|collection) (?:not made|failed|cancelled)",
        r"next (?:available )?pick-?up",
        r"staged (?:at|on|in) (?:the )?(?:door|dock|lane)",
        r"still (?:on|at) (?:the )?dock",
        r"waiting for (?:pickup|collection|the carrier)",
    ),
    "carrier_delay": (
        r"in[- ]transit",
        r"(?:stuck|sitting|delayed) at (?:the )?(?:hub|terminal|depot|cross-?dock)",
        r"(?:reefer|refrigeration) (?:failure|fault|breakdown)",
        r"(?:driver|hours of service|hos) (?:out of hours|violation|limit)",
        r"hours of service",
        r"detention",
        r"re-?consign",
        r"(?:wrong|incorrect) (?:terminal|hub|route)",
        r"tracking (?:stale|not updated|has not updated)",
        r"no tracking update",
        r"(?:eta|delivery date) (?:moved|slipped|changed|revised)",
        r"rolled (?:vessel|container|booking)",
        r"port congestion",
        r"accident",
        r"(?:closed|blocked) (?:road|highway|interstate)",
        r"(?:refused|declined) (?:the )?(?:load|tender)",
        r"(?:load|tender) (?:refused|declined)",
        r"(?:failed|unsuccessful) delivery attempt",
        r"weather",
        r"snow",
        r"storm",
        r"hurricane",
        r"flood",
        r"\bic[ey]\b",
        r"road closure",
        r"tender (?:was )?(?:rejected|declined|refused)",
        r"rejected (?:the )?tender",
        r"linehaul",
        r"line-haul",
        r"in transit (?:delay|exception)",
        r"transit delay",
        r"misrout",
        r"mis-sort",
        r"missort",
        r"missed (?:the )?connection",
        r"capacity (?:shortage|constraint|issue)",
        r"no capacity",
        r"mechanical (?:failure|breakdown)",
        r"breakdown",
        r"delivery (?:attempt )?(?:failed|missed|exception)",
        r"missed delivery",
        r"embargo",
        r"held at (?:the )?(?:terminal|hub)",
        r"terminal delay",
        r"late (?:delivery|arrival)",
        r"eta (?:slipped|pushed|revised)",
    ),
    "warehouse_congestion": (
        r"labou?r (?:constraint|gap|short)",
        r"(?:pickers|packers|staff|associates|operators) (?:absent|out sick|short)",
        r"absentee",
        r"headcount",
        r"(?:waves?|tasks?) (?:backed up|queued|piling up)",
        r"(?:pick|pack|putaway) (?:queue|backlog)",
        r"(?:dock|doors|yard|staging|lanes?) (?:are |is )?(?:jammed|full|at capacity|congested|blocked)",
        r"no (?:free|open|available) (?:doors?|docks?|dock doors?)",
        r"(?:trailers|trucks) (?:waiting|queued) in (?:the )?yard",
        r"slotting",
        r"replen(?:ishment)? (?:behind|backlog|delay)",
        r"peak (?:volume|season|surge)",
        r"over capacity",
        r"(?:wms|warehouse) (?:overloaded|at capacity)",
        r"could not (?:process|pick|load) in time",
        r"backlog",
        r"short[- ]?staffed",
        r"understaffed",
        r"labou?r shortage",
        r"staff shortage",
        r"not enough (?:staff|pickers|labou?r|people)",
        r"sick call",
        r"call-?outs?",
        r"wave(?:s)? (?:not|were not|was not) released",
        r"wave (?:on hold|delayed|pending)",
        r"dock (?:is )?(?:full|congested|blocked)",
        r"doors? (?:are |is )?full",
        r"congest",
        r"pick (?:not|has not|hasn'?t) started",
        r"volume (?:spike|surge)",
        r"overtime",
        r"behind (?:on|schedule)",
        r"capacity at the dc",
        r"throughput",
        r"yard (?:is )?full",
        r"processing delay",
        # The DC's own throughput: people, rates and released work against the plan.
        r"(?:pick|pack|picking|packing|units per hour|uph) rate (?:low|down|below|behind)",
        r"(?:picker|packer|labou?r|staffing|operator) (?:shortage|gap|short)",
        r"(?:temp|agency|seasonal) (?:labou?r|staff|workers?) (?:no[- ]show|did not show|short|missing|cancelled)",
        r"(?:shift|crew|team) (?:is |was )?(?:short|understaffed|down \d+)",
        r"(?:behind|below) (?:the )?(?:labou?r )?plan",
        r"(?:wave|release|work) (?:delayed|late|held) (?:due to|because of|for) (?:volume|capacity|labou?r|staffing)",
        r"(?:order|volume|inbound|outbound) (?:surge|spike|peak)",
        r"(?:queue|work|orders|lines|totes) (?:piling up|building up|stacking up)",
        r"(?:waiting|queued) (?:for|to be) (?:picked|packed|loaded|processed)",
        r"not (?:yet )?(?:picked|packed|loaded|released to the floor)\b(?! up)",
        r"(?:unreleased|open) (?:waves?|orders|lines) (?:over|above|beyond)",
    ),
    "inventory_discrepancy": (
        r"book(?:ed)? (?:stock|qty|quantity) (?:differs|does not match|mismatch)",
        r"(?:system|book) (?:says|shows) \d+",
        r"(?:physical|actual) (?:count|stock|qty)",
        r"count (?:shows|found|differs)",
        r"(?:stock|inventory) (?:not|never) (?:found|located)",
        r"(?:pallet|case|item)s? (?:missing|not found|lost) (?:in|at|from) (?:the )?(?:location|bin|rack)",
        r"misplaced",
        r"mis-?slotted",
        r"(?:lot|batch|serial) (?:mismatch|wrong|not found)",
        r"expired (?:stock|lot|batch)",
        r"(?:stock|inventory) (?:accuracy|integrity)",
        r"over[- ]?receipt",
        r"short[- ]?pick",
        r"(?:count|stock|inventory) variance",
        r"cycle[- ]?count",
        r"discrepanc",
        r"on[- ]hand (?:differs|mismatch|does not match)",
        r"phantom (?:stock|inventory)",
        r"(?:stock|inventory) (?:missing|not found|mismatch)",
        r"empty (?:location|bin|slot)",
        r"location (?:was )?empty",
        r"found \d+ of \d+",
        r"counted \d+",
        r"wrong (?:lot|location|bin|item picked)",
        r"damaged",
        r"mispick",
        r"mis-pick",
        r"shrink",
        r"lost (?:stock|inventory)",
        r"(?:inventory|stock) adjustment",
        r"recount",
    ),
    "supplier_delay": (
        r"(?:vendor|supplier) (?:has not|hasn'?t|did not|didn'?t) (?:confirm|acknowledge|ship|respond)",
        r"(?:vendor|supplier) (?:delay|late|behind|running late|pushed)",
        r"(?:vendor|supplier) (?:is )?out of stock",
        r"(?:po|purchase order) (?:not|never) (?:confirmed|acknowledged)",
        r"(?:awaiting|waiting for|pending) (?:the )?(?:po )?(?:confirmation|acknowledg)",
        r"(?:ship|dispatch|delivery) date (?:[\w/-]+ ){0,3}?(?:pushed|moved|slipped|changed|revised|rescheduled)",
        r"shipped (?:only )?(?:\d+ )?(?:partial|short)",
        r"(?:expected|promised) (?:ship|delivery) date",
        r"(?:inbound|asn|advance ship notice) (?:missing|late|overdue|not sent)",
        r"advance ship(?:ping)? notice",
        r"(?:capacity|material|component) shortage at (?:the )?(?:supplier|vendor|mill|plant)",
        r"(?:allocation|allocated) (?:short|only)",
        r"short[- ]shipped",
        r"(?:rest|remainder|balance) (?:to follow|on back ?order|backordered)",
        r"backorder",
        r"back-order",
        r"back order",
        r"partial(?:ly)? ship",
        r"partial shipment",
        r"short ship",
        r"shipped partial",
        r"no (?:po )?ack",
        r"acknowledg(?:e)?ment (?:missing|overdue|not received)",
        r"not (?:yet )?acknowledged",
        # An EDI document number names the document, not what happened to it: 855 and 856
        # count only when missing or late, or with an 855 line status of backordered,
        # rescheduled, quantity changed or rejected (X12 ACK01 IB, DR, IQ, IR).
        r"(?:no|missing|awaiting|overdue|late|outstanding) (?:edi )?85[56]\b",
        r"\b85[56] (?:not (?:yet )?(?:received|sent)|missing|overdue|late|outstanding)",
        r"\back[* ](?:ib|dr|iq|ir)\b",
        r"(?:later|revised|changed|rescheduled) (?:ship|delivery|dispatch) date",
        r"asn (?:missing|not received|overdue|late)",
        r"no asn",
        r"supplier (?:delay|late|has not shipped|hasn'?t shipped)",
        r"not (?:yet )?shipped",
        r"will ship",
        r"ships? (?:next|on|friday|monday|tuesday|wednesday|thursday)",
        r"production (?:delay|issue)",
        r"raw material",
        r"out of stock at (?:the )?supplier",
        r"lead time",
        r"new (?:ship|delivery) date",
    ),
    "integration_failure": (
        r"(?:idoc|edi|interface|middleware|message|payload) (?:rejected|failed|errored|error|stuck|pending)",
        r"(?:997|999|functional ack(?:nowledg(?:e)?ment)?) (?:reject|negative|error)",
        r"(?:sftp|ftp|as2|vpn) (?:failure|error|down|auth)",
        r"(?:auth(?:entication)?|certificate|token) (?:failure|expired|error)",
        r"gateway (?:error|timeout)",
        r"(?:queue|backlog) (?:depth|growing) (?:in|on) (?:the )?(?:middleware|integration|esb)",
        r"(?:shipped|received|counted|confirmed) in (?:the )?(?:wms|tms) (?:but )?not (?:in )?(?:the )?erp",
        r"(?:not|never) (?:reached|made it to|arrived in) (?:the )?(?:erp|wms|tms)",
        r"(?:duplicate|missing) (?:message|transmission)",
        r"(?:re-?send|re-?push|replay) (?:the )?(?:message|idoc|file|transaction)",
        r"batch job (?:failed|aborted)",
        r"dead[- ]?letter",
        r"\bdlq\b",
        r"http ?5\d\d",
        r"\b50[0-4]\b",
        r"\b5xx\b",
        r"time[d ]?-?out",
        r"sync (?:failed|error|failure)",
        r"failed to (?:post|sync|send|transmit|deliver|process)",
        r"(?:message|idoc|interface|queue) (?:stuck|failed|error)",
        r"stuck in (?:the )?queue",
        r"connection (?:refused|reset|error)",
        r"unreachable",
        r"service unavailable",
        r"mapping (?:error|failed)",
        r"schema (?:error|validation)",
        r"not posted",
        r"did not post",
        r"never (?:posted|arrived|received)",
        r"retr(?:y|ies) exhausted",
        r"\bapi (?:error|failure)",
        r"\bedi (?:error|failure|rejected)",
        r"\b997\b",
        r"parse error",
        r"null pointer",
        r"interface (?:error|down|failed)",
        # EDI and middleware error signatures: the translator or the queue, not the partner.
        r"translat(?:ion|or) (?:error|failed|failure|reject)",
        r"(?:error|exception|suspense) queue",
        r"(?:routed|moved|sent|parked) to (?:the )?(?:error|exception|suspense|dead)",
        r"\b(?:ak5|ik5|ak9)\*[emprwx]\b",
        r"interchange (?:rejected|error)",
        r"(?:segment|element)\b[\w*#:,/ -]{0,40}\b(?:exceeds|invalid|too long|not allowed|mandatory)",
        r"idoc (?:status )?5[16]\b",
        r"(?:could not|cannot|can'?t|unable to) (?:parse|deseriali[sz]e|map|translate)",
        r"mdn (?:failed|negative|error|not returned|missing)",
        # A stalled link between systems, in the words of whoever found it.
        r"(?:mq|message|edi|idoc|outbound|inbound|integration|middleware|esb|jms|dead[- ]letter|error) queue depth",
        r"(?:post|posting|send|sync|upload|import|export|transmission)_(?:failed|error)",
        r"(?:posting|upload|import|transmission|send) (?:failed|error)",
        r"(?:cert(?:ificate)?|credentials?|token|api key|ssh key) (?:has |was |had )?(?:rolled over|been rotated|rotated|expired)",
        r"(?:never|not) (?:showed up|made it|got through|came through|came across) (?:in|to|into) (?:the )?(?:erp|wms|tms|sap|oms|portal)",
    ),
    "master_data_error": (
        r"(?:uom|unit) (?:conversion|mismatch|error)",
        r"(?:each|eaches|ea|cases?|cs|pallets?|plt) (?:vs|versus|instead of) (?:each|eaches|ea|cases?|cs|pallets?|plt)",
        r"(?:material|item|article|product) master",
        r"(?:vendor|customer|supplier) master",
        r"(?:no|missing|wrong|incorrect) (?:ship-to|sold-to|bill-to|address|route|plant|storage location)",
        r"(?:not|never) (?:extended|set up|created) (?:to|for|in) (?:the )?(?:plant|site|dc|sales org|warehouse)",
        r"(?:missing|wrong|invalid|incorrect) (?:gtin|upc|ean|hs code mapping|item number|material number|weight|dimensions)",
        r"(?:no|missing) (?:price|pricing) (?:record|condition|master)",
        r"lookup failed",
        r"(?:does not|doesn'?t) exist in (?:the )?(?:erp|wms|system|master)",
        r"unit of measure",
        r"\buom\b",
        r"conversion (?:factor|mismatch|missing)",
        r"item (?:not found|does not exist|unknown|missing)",
        r"unknown (?:item|sku|material|location)",
        r"(?:sku|material|article) (?:not found|not set up|missing|inactive|blocked)",
        r"location (?:does not exist|not found|not set up|unknown)",
        r"not (?:set up|maintained|configured)",
        r"master data",
        r"missing (?:pricing condition|price condition|hierarchy)",
        r"(?:customer|ship-to|sold-to) hierarchy",
        r"pricing condition",
        r"invalid (?:item|sku|location|uom|code)",
        r"case pack",
        r"pack size",
        r"each vs|ea vs|cs vs",
        r"gtin",
        r"barcode",
        # Reference data a transaction looks up and does not find, or finds wrong.
        r"(?:customer|vendor|supplier|partner|ship-?to|sold-?to|bin|storage bin|plant|site|route|lane|carrier) (?:not found|does not exist|unknown|not maintained|not assigned)",
        r"invalid (?:ship-?to|sold-?to|partner|plant|site|address|postal code|zip(?: code)?|route|lane|bin|storage location|material|article|gtin|upc|ean)",
        r"(?:base|alternate|alternative|order|sales|purchase) unit",
        r"no (?:conversion|route|lane|carrier) (?:found|determined|defined|assigned)",
        r"(?:route|shipping point|plant|carrier|lane) determination",
        r"(?:cross[- ]?reference|xref) (?:missing|not found|wrong|invalid)",
        r"(?:customer|vendor|supplier|buyer) (?:part|item|material) (?:number|no\.?) (?:missing|not found|unknown|wrong)",
        r"(?:item|material|article|sku|product) (?:inactive|discontinued|obsolete|flagged for deletion)",
        r"(?:missing|wrong|incorrect|zero) (?:weight|dimensions|cube|volume|pack quantity|ti-?hi)",
        r"\bti-?hi\b",
        # A lookup key in an error line: "location Y-22-A does not exist", "item 4471 not found".
        r"(?:item|sku|material|article|product|location|bin|customer|vendor|supplier|partner|"
        r"ship-?to|sold-?to|payer|plant|site|route|gtin|ean|upc) [\w\./#-]*\d[\w\./#-]* "
        r"(?:not found|does not exist|doesn'?t exist|is unknown|not maintained|not assigned|"
        r"not defined|not set up)",
        r"(?:weight|volume|cube) (?:is |of )?0(?:[\.,]0+)? ?(?:kg|lbs?|g|oz|m3|cbm)?(?![\w\.,])",
        r"not (?:batch|lot|serial)[- ](?:managed|controlled|enabled|tracked)",
        r"partner function",
        r"(?:pallet|pack|case) (?:configuration|pattern) (?:missing|wrong|incorrect)",
        r"(?:price list|pricing record|condition record) (?:missing|not found|expired)",
        r"(?:address|postal code|zip code) (?:incomplete|invalid|wrong|missing)",
        r"duplicate (?:item|material|customer|vendor|ship-?to) (?:record|master|number)",
        r"(?:wrong|incorrect) (?:hierarchy|customer group|sales org(?:anization)?)",
        # A master record, named by its kind, that a lookup does not find: "not found in carrier
        # master".
        r"(?:not (?:found|maintained|set up) in|missing from|absent from) (?:the )?"
        r"(?:\w+ )?(?:master|masterfile|master file|catalog|catalogue)",
        # An item's measurements left empty, written as the record's fields: "dimensions/weight
        # null", "length/width/height = 0". A weight alone may be a scale's reading.
        r"(?:dims|dimensions|length|width|height|weight)(?:/(?:dims|dimensions|length|width|height|weight|cube|volume))+"
        r" ?(?:=|:|is|are)? ?(?:null|0|zero|blank|empty|missing|not maintained)(?!\w|[\.,]\d)",
        r"no (?:dims|dimensions)\b",
        r"(?:dims|dimensions) never",
        # A master record flagged for deletion or inactive while it is still in use.
        r"(?:item|sku|material|article|product|vendor|supplier|customer|ship-?to|sold-?to|bill-?to|partner)"
        r"(?: [\w-]*\d[\w-]*)? (?:is |was |has been )?(?:flagged|marked|set) (?:as )?(?:inactive|for deletion|obsolete)",
        r"deletion (?:flag|indicator)",
        # A figure loaded in the wrong unit: "loaded in EA not CS".
        r"(?:loaded|maintained|set up|defined|stored|entered|created|configured) (?:\w+ )?(?:in|as) "
        r"(?:each|eaches|ea|cases?|cs|pallets?|plt|kg|lbs?) (?:not|rather than|instead of) (?:in |as )?"
        r"(?:each|eaches|ea|cases?|cs|pallets?|plt|kg|lbs?)\b",
    ),
    "credit_hold": (
        r"(?:credit|finance|ar) (?:team|dept|department) (?:blocked|holding|hold)",
        r"(?:account|customer) (?:on|under) (?:credit )?(?:hold|stop|block)",
        r"(?:account|customer) (?:suspended|blocked)",
        r"(?:awaiting|pending) (?:payment|prepayment|credit (?:review|approval|release))",
        r"prepayment",
        r"credit (?:line|review|release|approval|risk)",
        r"(?:invoices?|balance) (?:past|over) (?:due|terms)",
        r"(?:aged|ageing|aging) (?:debt|balance|receivables)",
        r"order (?:blocked|held) (?:by|for) (?:credit|finance)",
        r"credit (?:hold|block|limit|check|exposure)",
        r"over (?:the |their )?(?:credit )?limit",
        r"exceed(?:s|ed)? (?:the )?(?:credit )?limit",
        r"past due",
        r"overdue (?:balance|invoices?)",
        r"unpaid",
        r"blocked for (?:credit|delivery|billing)",
        r"finance hold",
        r"payment (?:hold|overdue|terms)",
        r"dunning",
        r"collections (?:team|hold)",
        r"\bar hold",
    ),
    "pricing_mismatch": (
        r"\bppv\b",
        r"purchase price variance",
        r"(?:price|qty|quantity|amount) (?:out of|outside|above|over) tolerance",
        r"(?:invoice|bill) (?:price|qty|quantity|amount|total) (?:higher|lower|greater|more|less)",
        r"(?:invoiced|billed|charged) (?:more|less|twice|higher|lower)",
        r"(?:overcharge|undercharge|double[- ]billed|duplicate invoice)",
        r"(?:price|pricing|rate) (?:dispute|error|wrong)",
        r"(?:invoice|810) (?:exception|on hold|blocked for payment|parked)",
        r"\b810\b",
        r"(?:debit|credit) (?:note|memo) (?:requested|needed|issued|pending)",
        r"(?:discount|rebate|freight charge|fuel surcharge) (?:not applied|missing|wrong)",
        r"(?:vat|gst|sales tax) (?:wrong|mismatch|difference|incorrect)",
        r"(?:receipt|gr) (?:qty|quantity) (?:differs|lower|higher)",
        r"price variance",
        r"price (?:difference|mismatch|discrepancy)",
        r"(?:billed|invoiced) at",
        r"list price",
        r"quantity variance",
        r"qty variance",
        r"three-way match",
        r"3-way match",
        r"two-way match",
        r"match (?:failed|exception)",
        r"tolerance",
        r"over-?billed",
        r"under-?billed",
        r"credit note",
        r"credit memo",
        r"tax (?:difference|mismatch|variance)",
        r"surcharge",
        r"invoice (?:price|quantity|qty) (?:differs|exceeds|does not match)",
        r"price increase",
        r"contract price",
        r"unit price",
        # The invoice corrected.
        r"(?:corrected|revised) invoice",
        r"(?:rebill|re-bill|reissue the invoice|re-issue the invoice|reinvoice|re-invoice)",
    ),
    "compliance_hold": (
        r"customs broker",
        r"(?:cbp|hmrc|cbsa|border (?:agency|force|control))",
        r"(?:held|hold|stopped|detained|inspection) (?:at|by) (?:the )?(?:border|port|customs)",
        r"(?:export|import) (?:declaration|entry|filing|documents?)",
        r"\b(?:eei|aes|isf|itn|mrn|eori)\b",
        r"(?:hs|harmoni[sz]ed|commodity) (?:code|classification)",
        r"(?:packing list|bill of lading|airway bill|phytosanitary|fumigation) (?:missing|incomplete|wrong)",
        r"(?:licen[cs]e|permit) (?:missing|required|expired|pending)",
        r"(?:denied|restricted) party",
        r"\beccn\b",
        r"(?:lithium|battery|batteries|aerosol|flammable)",
        r"(?:un|dg|hazmat) (?:declaration|paperwork|documents?|labels?)",
        r"in[- ]bond",
        r"customs",
        r"certificate of origin",
        r"\bcoo\b",
        r"export (?:control|licen[cs]e|hold)",
        r"import (?:licen[cs]e|permit|hold)",
        r"hazmat",
        r"haz-?mat",
        r"dangerous goods",
        r"\bdg\b",
        r"\bsds\b",
        r"\bmsds\b",
        r"safety data sheet",
        r"\bun ?\d{4}\b",
        r"commercial invoice",
        r"hs code",
        r"tariff code",
        r"declaration",
        r"documentation (?:missing|incomplete)",
        r"missing (?:documents|documentation|paperwork)",
        r"paperwork",
        r"broker",
        r"sanction",
        r"restricted party",
    ),
}


# A few words of one statement: no line or clause break, and a full stop only as a decimal point.
_GAP = r"(?:[\w ,:'/()&%$€£#*+=@<>\t-]|\.(?=\d))"
# Words that may stand between a subject and its verb, none of them a negation.
_WORDS = r"(?: (?!not\b|no\b|never\b)[\w\.'-]+)"
# An amount of money, with a currency sign or cents; a count, which is no date, time or number
# of a document (those run past six digits).
_MONEY = r"(?:[$€£] ?\d[\d,]*(?:\.\d+)?|\d[\d,]*\.\d\d)(?![\d/:-]|[\.,]\d)"
_COUNT = r"(?:\d{1,3}(?:,\d{3})+|\d{1,6})(?![\d/:-]|[\.,]\d)"
# What the order, contract or receipt states, and what the invoice states.
_PRICE_SIDE = (
    r"(?:po (?:price|rate|cost|amount)|order price|contract(?:ed)?(?: price| rate)?"
    r"|agreed(?: price| rate| amount)?|quoted? (?:price|rate|amount)|rate(?: confirmation| con)?"
    r"|confirmed rate|list price|expected (?:price|amount|total|cost|tax|vat|charge))"
)
_PRICE_BILLED = r"(?:(?:invoiced|billed|charged)(?: price| amount| at| as)?|invoice(?: price| amount| total| value)?)"
_COUNT_SIDE = r"(?:ordered|received|delivered|po (?:qty|quantity)|(?:receipt|gr) (?:qty|quantity))"
_COUNT_BILLED = r"(?:(?:invoiced|billed|charged)(?: qty| quantity| for)?|invoice (?:qty|quantity))"
_EDI = r"(?:850|855|856|810|940|943|944|945|214|204|990|997)"
# Cues that join two parts of one statement across a few words. They run as a scan of their
# own, so that a long match never hides another cause's cue inside it; and a pattern with the
# groups `a` and `b` counts only when the two figures differ (figures_differ).
SPANNING_CUES: dict[str, tuple[str, ...]] = {
    "pricing_mismatch": (
        # One charge or quantity stated by two documents in one breath: "contract 9.40, invoiced
        # 9.85", "invoice 1,415.00 vs rate 1,240.00", "received 40 but they invoiced 100".
        _PRICE_SIDE
        + r"[ \t:=@]*(?P<a>"
        + _MONEY
        + ")"
        + _GAP
        + r"{0,30}?\b"
        + _PRICE_BILLED
        + r"[ \t:=@]*(?P<b>"
        + _MONEY
        + ")",
        _COUNT_SIDE
        + r"[ \t:=@]*(?P<a>"
        + _COUNT
        + ")"
        + _GAP
        + r"{0,30}?\b"
        + _COUNT_BILLED
        + r"[ \t:=@]*(?P<b>"
        + _COUNT
        + ")",
        _PRICE_BILLED
        + r"[ \t:=@]*(?P<a>"
        + _MONEY
        + ")"
        + _GAP
        + r"{0,20}?\b(?:vs\.?|versus) (?:the )?"
        + _PRICE_SIDE
        + r"[ \t:=@]*(?P<b>"
        + _MONEY
        + ")",
        # A charge that the order, contract or rate confirmation does not hold.
        r"(?:charge|fee|surcharge|levy|accessorial|freight line|tax line)\b"
        + _GAP
        + r"{0,30}?\bnot (?:on|in|per) (?:the )?(?:po|purchase order|rate confirmation|rate con|contract|quote)\b",
    ),
    "integration_failure": (
        # A consumer or queue of the middleware that stopped, a channel that keeps retrying, an
        # EDI document that failed or bounced.
        r"(?:consumer|listener|connector|integration job|interface)\b"
        + _WORDS
        + r"{0,3} (?:crashed|hung|went down|is down|retrying|stopped|not consuming|not processing)",
        r"(?:message|edi|idoc|outbound|inbound|mq|jms|esb|middleware|integration|interface|\d{3})"
        + _WORDS
        + r"{0,2} queue"
        + _WORDS
        + r"{0,3} (?:stuck|backed up|not draining|frozen|retrying)",
        r"(?:channel|connection|endpoint)" + _WORDS + r"{0,4} in (?:a )?retry(?:ing)? state",
        r"(?:channel|connection|endpoint) (?:is |was |keeps )?retrying",
        r"(?:(?:edi|x12) "
        + _EDI
        + r"s?|"
        + _EDI
        + r"s|"
        + _EDI
        + r" (?:file|document|transaction|message|transmission|to|from))"
        + _WORDS
        + r"{0,6} (?:failed|bounced|errored|(?:(?:was|were|got) )?rejected|stuck)",
        # An EDI document and its failure written together, as a log line does: "856 rejected".
        _EDI + r" (?:failed|rejected|bounced|errored)",
    ),
}


# Words that name a regulated document, filing or status, and what is wrong with one.
_COMPLIANCE_PAPER = (
    r"(?:sds|msds|safety data sheet|dgd|dg (?:declaration|note|form)|shipper'?s declaration"
    r"|un ?38\.3|test (?:summary|report)|certificate(?: of (?:origin|conformity|analysis))?|\bcoo"
    r"|(?<!driver )(?<!driver's )licen[cs]e|permit|declaration|entry|filing|commercial invoice"
    r"|packing list|hs code"
    r"|tariff (?:code|number|classification)|classification|\beccn|\beori|\bisf|\baes|\bitn"
    r"|paperwork|documents?|documentation|docs|labels?|placards?|markings?)\b"
)
_COMPLIANCE_WRONG = (
    r"(?:missing|expired|lapsed|outstanding|incomplete|invalid|rejected|refused|pending|awaiting"
    r"|required|needed|wrong|incorrect|mismatch(?:ed)?|out of date|not (?:provided|on file|attached"
    r"|received|submitted|filed|valid|accepted|approved))"
)
# Cues that name only a carrier delay's subject: every shipment reads "in transit" until it
# arrives, and detention is a line of a carrier's bill.
_CARRIER_SUBJECT = (r"in[- ]transit", r"detention")
# A few words of one statement with no negation among them: "no exam", "nothing else missing",
# "weren't rejected".
_PLAIN_GAP = r"(?:(?!\b(?:no|not|nothing|never|none)\b|n't\b)" + _GAP + ")"
# A shipment's status in the languages of the foreign cues.
_FOREIGN_IN_TRANSIT = (r"en tr[aá]nsito", r"unterwegs", r"en transit", r"onderweg")
# For a cause whose subject words stand in every case of some registers (an import desk names
# the broker, the entry and the HS code whether or not anything is held; a claims desk quotes a
# shipment's "in transit" status), a cue grounds an automatic run only where the text also
# states the cause's condition: the goods held, stopped or examined by an authority, a regulated
# document missing or wrong, a screening or licence block; a shipment late, or in transit longer
# than it should be. The classifier still counts the subject words (CUES); this only decides
# grounding.
CONDITION_CUES: dict[str, tuple[str, ...]] = {
    "compliance_hold": (
        r"(?<!\bno )" + _COMPLIANCE_PAPER + _PLAIN_GAP + r"{0,30}?\b" + _COMPLIANCE_WRONG + r"\b",
        r"(?:missing|expired|lapsed|outstanding|incomplete|invalid|awaiting|need|needs|no valid"
        r"|without(?: a| the)?|wrong|incorrect|requires?|requested)\b"
        + _PLAIN_GAP
        + r"{0,20}?\b"
        + _COMPLIANCE_PAPER,
        r"no (?:dg|dangerous goods|hazmat|shipper'?s) (?:declaration|paperwork|docs|documents)\b"
        r"(?! (?:needed|required|necessary))",
        r"(?:customs|cbp|cbsa|hmrc|border|port authority|fda|usda|epa|aphis|authorit(?:y|ies)"
        r"|inspector|officer|regulator)\b"
        + _PLAIN_GAP
        + r"{0,30}?\b(?:hold|held|holding|exam|examination|inspect(?:ion|ing|ed)?|detain(?:ed)?"
        r"|stop(?:ped)?|seiz(?:ed|ure)|quer(?:y|ied)|flag(?:ged)?|refus(?:ed|al)|reject(?:ed|ion)"
        r"|intensive|x-?ray|review)\b",
        r"(?:hold|held|exam|examination|inspection|detained|stopped|seized|flagged|stuck|sitting"
        r"|review)\b"
        + _PLAIN_GAP
        + r"{0,20}?\b(?:by|at|in|for) (?:the )?(?:customs|cbp|cbsa|hmrc|border|port|fda|usda"
        r"|authorit(?:y|ies)|inspection|compliance)\b",
        r"(?:on hold|held|refused|rejected|stopped|detained|blocked)\b"
        + _PLAIN_GAP
        + r"{0,20}?\b(?:dg|hazmat|dangerous goods|customs|border|export|import|compliance"
        r"|regulat\w*)\b",
        r"(?:dg|hazmat|dangerous goods|battery|batteries) (?:shipment|cargo|freight|parcel|load)s?"
        r" (?:was |were |got )?(?:rejected|refused|held|stopped)\b",
        r"(?:awaiting|pending|waiting (?:for|on)) (?:the )?customs(?: clearance| release)?\b",
        r"customs clearance (?:delayed|held|pending|on hold)\b",
        r"(?:compliance|export|import|trade|dg|hazmat|regulatory|screening|sanctions?) "
        r"(?:hold|block(?:ed)?|stop|review|check (?:failed|pending)|hit|flag(?:ged)?)\b",
        r"(?:denied|restricted) part(?:y|ies)\b"
        + _PLAIN_GAP
        + r"{0,20}?\b(?:hit|match(?:ed)?|flag(?:ged)?|block(?:ed)?)\b",
        r"sanction(?:s|ed)? (?:hit|match|list|flag)\b",
        r"(?<!\bno )(?:licen[cs]e|permit) (?:missing|required|expired|pending)\b",
        r"(?:not|cannot|can'?t|won'?t) (?:be )?(?:accepted|tendered|shipped|flown|loaded|released)"
        + _PLAIN_GAP
        + r"{0,20}?\b(?:without|until|pending)\b",
        # The same, as the foreign cues write them.
        r"(?:aduana|zoll|douane)"
        + _PLAIN_GAP
        + r"{0,30}?(?:reten|retuv|bloquead|inspecci|gesperrt|zur[üu]ckgehalten|beschau|bloqu[ée]"
        r"|tegengehouden|geblokkeerd)",
        r"(?:retenid|retuv|bloquead|gesperrt|zur[üu]ckgehalten|bloqu[ée]|retenu|tegengehouden"
        r"|geblokkeerd)\w*" + _PLAIN_GAP + r"{0,20}?(?:aduana|zoll|douane)",
    ),
    "carrier_delay": (
        *(p for p in CUES["carrier_delay"] if p not in _CARRIER_SUBJECT),
        *(p for p in FOREIGN_CUES.get("carrier_delay", ()) if p not in _FOREIGN_IN_TRANSIT),
        # "in transit 4 days", "in transit since Monday", "in transit beyond the promised date".
        r"in[- ]transit\b['\"]?"
        + _PLAIN_GAP
        + r"{0,12}?\b(?:beyond|past|overdue|since|longer than|over (?:a|one|two|\d+) (?:days?|weeks?)"
        r"|for (?:a|one|two|three|four|five|six|seven|eight|nine|ten|\d+) (?:days?|weeks?)"
        r"|\d+ (?:business |working )?(?:days?|weeks?))",
        # "delayed in transit", "stuck in transit", "still in transit, past due".
        r"(?:delayed|stuck|held up|late|running late|past due|overdue)\b"
        + _PLAIN_GAP
        + r"{0,20}?\bin[- ]transit\b",
        r"in[- ]transit\b" + _PLAIN_GAP + r"{0,30}?\b(?:late|delayed|past due|overdue)\b",
    ),
}


@cache
def compiled_conditions() -> dict[str, re.Pattern[str]]:
    """Returns one alternation per cause over its condition cues."""
    return {
        cause: re.compile(r"\b(?:" + "|".join(patterns) + ")")
        for cause, patterns in CONDITION_CUES.items()
    }


def states_condition(text: str, cause: str) -> bool:
    """Tells whether the text states the cause's condition, not only its subject.

    True for a cause without condition cues. A statement that the condition is lifted or fine
    ("customs released the hold") does not count.
    """
    pattern = compiled_conditions().get(cause)
    if pattern is None:
        return True
    for line in text.lower().split("\n"):
        matches = list(pattern.finditer(line))
        if not matches:
            continue
        spans = cleared_spans(line)
        if any(not is_cleared(line, m.start(), m.end(), spans) for m in matches):
            return True
    return False


@cache
def compiled_spanning() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Returns one alternation per cause over its spanning cues, each figure pair's groups numbered.

    One scan per cause rather than per pattern: the scans cost per call, on every line.
    """
    compiled = []
    for cause, patterns in SPANNING_CUES.items():
        numbered = (
            p.replace("(?P<a>", f"(?P<a{i}>").replace("(?P<b>", f"(?P<b{i}>")
            for i, p in enumerate(patterns)
        )
        compiled.append((cause, re.compile(r"\b(?:" + "|".join(numbered) + ")")))
    return tuple(compiled)


def figures_differ(match: re.Match[str]) -> bool:
    """Tells whether a match's two figures (groups `a` and `b`, or `aN` and `bN`) differ.

    "ordered 120, invoiced 120" or "rate $1,200, invoice $1,200.00" state one figure twice: the
    documents agree; figures within half a percent of each other are the same figure, as the
    attribute facts read them (facts.same_figure). A match without figures is true.
    """
    groups = match.groupdict()
    first = next((k for k, v in groups.items() if k.startswith("a") and v is not None), None)
    if first is None:
        return True
    a, b = (float(re.sub(r"[^\d\.]", "", groups[k])) for k in (first, "b" + first[1:]))
    return not same_figure(a, b)


@cache
def compiled_cues() -> re.Pattern[str]:
    """Returns one alternation over every cue, with a named group per cause."""
    groups = (
        "(?P<{}>{})".format(cause, "|".join(patterns + FOREIGN_CUES.get(cause, ())))
        for cause, patterns in CUES.items()
    )
    # Every cue starts at a word; the leading \b rejects most positions before any alternative
    # is tried, which makes the scan several times faster.
    return re.compile(r"\b(?:" + "|".join(groups) + ")")


@lru_cache(maxsize=8192)
def _line_scan(line: str) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """Returns one line's cue counts by cause, then its cleared cue counts, each in the order found.

    The shared alternation is scanned first, then each cause's spanning cues.
    """
    kept: dict[str, int] = {}
    cleared: dict[str, int] = {}
    lowered = line.lower()
    spans = cleared_spans(lowered)
    found: list[tuple[str | None, re.Match[str]]] = [
        (m.lastgroup, m) for m in compiled_cues().finditer(lowered)
    ]
    found += [
        (spanning, m)
        for spanning, pattern in compiled_spanning()
        for m in pattern.finditer(lowered)
        if figures_differ(m)
    ]
    for cause, match in found:
        if cause is None:
            continue
        into = cleared if is_cleared(lowered, match.start(), match.end(), spans) else kept
        into[cause] = into.get(cause, 0) + 1
    return tuple(kept.items()), tuple(cleared.items())


def _sum_lines(text: str, part: int) -> dict[str, int]:
    # No cue spans a line break, so a text's counts are the sum of its lines'. Scoring counts a
    # case and then each of its events and messages, which are lines of the case text: caching
    # per line scans each of them once.
    counts: dict[str, int] = {}
    for line in text.split("\n"):
        for cause, n in _line_scan(line)[part]:
            counts[cause] = counts.get(cause, 0) + n
    return counts


def count_cues(text: str) -> dict[str, int]:
    """Returns how many cue phrases of each cause occur in the text, leaving out cleared ones."""
    return _sum_lines(text, 0)


def cleared_cues(text: str) -> dict[str, int]:
    """Returns how many cue phrases of each cause the text names only to say they are fine or lifted.

    "Customs released it", "no count variance", "credit check passed": each names a cause's
    condition and states that it does not hold.
    """
    return _sum_lines(text, 1)
