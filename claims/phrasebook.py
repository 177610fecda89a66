"""Instruction phrasings in languages other than English, for the screen (data, pure).

arXiv abstracts are written in English; an instruction to a model in another language
is how an injection slips past an English-only screen. Each language has patterns for
the forms a hostile paper uses, matched on the normalised text (NFKC, zero-width removed)
without the Latin homoglyph folding (which would break Cyrillic):

- *ignore*: "ignore / forget / disregard the previous instructions";
- *answer*: "answer / classify / label / mark ... as <stance>", the stance in English or
  in the language;
- *you are an AI*: "you are an AI / a language model / an assistant";
- *addressed*: a note to reviewers, evaluators, the AI or the model.

Two rules hold for any language: a verdict label in quotation marks ("contradicts",
"overturned", "weakened"; not "supports", "refines" or "refuted", which methods and
datasets quote), and such a label inside a passage in another script (a Chinese
sentence around "contradicts"). `LANGUAGE_PATTERNS` is (reason, compiled pattern) pairs.
"""

from __future__ import annotations

import re

# The judge's labels and verdicts, in English (the schema's words) and as translated.
_STANCE_EN = r"(?:contradicts?|supports?|refines?|unrelated|refuted|overturned|weakened)"
_STANCE = (
    rf"(?:{_STANCE_EN}|widerspr\w*|widerleg\w*|unterstütz\w*|bestätig\w*|contredi\w*|réfut\w*|contradi\w*|"
    r"contraddi\w*|smentisc\w*|refut\w*|противореч\w*|опроверг\w*|подтвержд\w*|суперечит\w*|矛盾|反驳|反駁|驳斥|"
    r"駁斥|否定|推翻|支持|反論|否認|반박|모순|지지|weerspreek\w*|weerleg\w*|zaprzecz\w*|sprzeczn\w*|çeliş\w*|"
    r"menyanggah|bertentangan|mâu\s+thuẫn|bác\s+bỏ|يناقض|विरोधाभास)"
)
_Q = r"[\"'“”„«»‘’「」『』]?\s*"  # an optional quotation mark before the stance

_LANGUAGES: dict[str, dict[str, str]] = {
    "German": {
        "ignore": r"\b(?:ignorier\w*|missacht\w*|vergiss|vergessen\s+sie|übergeh\w*|überspring\w*|verwirf|verwerfen\s+sie)"
                  r"\s+(?:\w+\s+){0,3}?(?:anweisung\w*|instruktion\w*|befehl\w*|vorgaben|regeln|richtlinien|"
                  r"eingabeaufforderung\w*)\b",
        "answer": rf"\b(?:antworte\w*|beantworte\w*|klassifizier\w*|bewerte\w*|stuf\w*|markier\w*|kennzeichne\w*|gib|"
                  rf"geben\s+sie|setze\w*)\s+(?:\S+\s+){{0,6}}?(?:mit|als|auf|:)\s*{_Q}{_STANCE}",
        "ai": r"\b(?:du\s+bist|sie\s+sind)\s+(?:jetzt\s+|nun\s+)?(?:ein\w*\s+)?(?:ki\b|künstliche\w*\s+intelligenz|"
              r"sprachmodell|ki-\w+|assistent\w*|llm|gutachter\w*)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:an\s+(?:die|den|das|alle)\s+|liebe[rs]?\s+|sehr\s+geehrte[rs]?\s+|hinweis\s+"
                     r"(?:an|für)\s+(?:die|den|das)?\s*)(?:\w+\s+)?(?:gutachter\w*|prüfer\w*|bewerter\w*|begutachter\w*|"
                     r"ki\b|sprachmodell\w*|modell\w*|assistent\w*|reviewer\w*)",
    },
    "French": {
        "ignore": r"\b(?:ignore[rz]?|oublie[rz]?|néglige[rz]?|ne\s+tiens\s+pas\s+compte|ne\s+tenez\s+pas\s+compte|"
                  r"fais\s+abstraction|faites\s+abstraction)\s+(?:de\s+|des\s+)?(?:toutes\s+|tous\s+)?(?:les|des|vos|tes|ces)\s+"
                  r"(?:\S+\s+){0,2}?(?:instructions?|consignes?|directives?|règles|invites?|ordres)\b",
        "answer": rf"\b(?:réponds|répondez|répondre|classe[rz]?|classifie[rz]?|évalue[rz]?|étiquette[rz]?|"
                  rf"marque[rz]?|indique[rz]?|qualifie[rz]?)\s+(?:\S+\s+){{0,6}}?(?:par|avec|comme|en\s+tant\s+que|:)"
                  rf"\s*{_Q}{_STANCE}",
        "ai": r"\b(?:tu\s+es|vous\s+êtes)\s+(?:maintenant\s+)?(?:une?\s+)?(?:ia\b|intelligence\s+artificielle|"
              r"modèle\s+de\s+langage|assistant\w*|llm|relecteur\w*|évaluat\w*)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:aux\s+|au\s+|à\s+l['’]\s*|à\s+la\s+|chers?\s+|chères?\s+|note\s+"
                     r"(?:aux|au|à\s+l['’]|pour\s+les?)\s*)(?:\w+\s+)?(?:relecteur\w*|rapporteur\w*|évaluat\w*|"
                     r"examinat\w*|ia\b|intelligence\s+artificielle|modèle\w*|assistant\w*|correcteur\w*|reviewer\w*)",
    },
    "Spanish": {
        "ignore": r"\b(?:ignora|ignore|ignorad|ignoren|ignorar|olvida\w*|descarta\w*|omite|omita|haz\s+caso\s+omiso\s+de|no\s+tengas\s+en\s+cuenta|"
                  r"no\s+tenga\s+en\s+cuenta)\s+(?:\S+\s+){0,4}?(?:instrucciones|indicaciones|directrices|reglas|"
                  r"órdenes|consignas)\b",
        "answer": rf"\b(?:responde|responda|respondan|contesta|conteste|contestad|clasifica\w*|"
                  rf"califica\w*|etiqueta\w*|marca|marque|evalúa\w*)\s+(?:\S+\s+){{0,6}}?(?:con|como|:)\s*{_Q}{_STANCE}",
        "ai": r"\b(?:eres|usted\s+es|ustedes\s+son)\s+(?:ahora\s+)?(?:una?\s+)?(?:ia\b|inteligencia\s+artificial|"
              r"modelo\s+de\s+lenguaje|asistente|llm|revisor\w*|evaluador\w*)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:a\s+los\s+|a\s+las\s+|al\s+|a\s+la\s+|estimad[oa]s?\s+|querid[oa]s?\s+|"
                     r"nota\s+(?:para|a)\s+(?:los|las|el|la)?\s*)(?:\w+\s+)?(?:revisor\w*|evaluador\w*|árbitros?|"
                     r"ia\b|inteligencia\s+artificial|modelo\w*|asistente\w*)",
    },
    "Portuguese": {
        "ignore": r"\b(?:ignor[ea]\w*|esqueç\w*|esquec\w*|desconsider\w*|descart\w*)\s+(?:\S+\s+){0,4}?(?:instruções|"
                  r"instrução|orientações|diretrizes|regras|comandos)\b",
        "answer": rf"\b(?:responda|respondam|classifiqu\w*|rotul\w*|marque|avali\w*)\s+"
                  rf"(?:\S+\s+){{0,6}}?(?:com|como|:)\s*{_Q}{_STANCE}",
        "ai": r"\b(?:você\s+é|tu\s+és|vocês\s+são)\s+(?:agora\s+)?(?:uma?\s+)?(?:ia\b|inteligência\s+artificial|"
              r"modelo\s+de\s+linguagem|assistente|llm|revisor\w*|avaliador\w*)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:aos\s+|às\s+|ao\s+|à\s+|caros\s+|caras\s+|prezad[oa]s?\s+|nota\s+"
                     r"(?:para|aos|ao)\s+(?:os|as|o|a)?\s*)(?:\w+\s+)?(?:revisor\w*|avaliador\w*|pareceristas?|ia\b|"
                     r"inteligência\s+artificial|modelo\w*|assistente\w*)",
    },
    "Italian": {
        "ignore": r"\b(?:ignora\w*|dimentica\w*|trascura\w*|non\s+considerare|non\s+tenere\s+conto\s+d\w*)\s+"
                  r"(?:\S+\s+){0,4}?(?:istruzion\w*|indicazion\w*|direttive|regole|comandi)\b",
        "answer": rf"\b(?:rispondi\w*|risponda|classifica\w*|etichetta\w*|valuta\w*|segna\w*)\s+"
                  rf"(?:\S+\s+){{0,6}}?(?:con|come|:)\s*{_Q}{_STANCE}",
        "ai": r"\b(?:sei|lei\s+è|siete)\s+(?:ora\s+)?(?:una?\s+|un['’]\s*)?(?:ia\b|intelligenza\s+artificiale|"
              r"modello\s+(?:linguistico|di\s+linguaggio)|assistente|llm|revisor\w*|valutator\w*)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:ai\s+|agli\s+|al\s+|all['’]\s*|alla\s+|cari\s+|care\s+|gentili\s+|egregi\s+|"
                     r"nota\s+(?:per|ai|al)\s+(?:i|il|gli|l['’])?\s*)(?:\w+\s+)?(?:revisor\w*|valutator\w*|referee|"
                     r"ia\b|intelligenza\s+artificiale|modell\w*|assistente\w*)",
    },
    "Dutch": {
        "ignore": r"\b(?:negeer|vergeet|negeren)\s+(?:\S+\s+){0,3}?(?:instructies|aanwijzingen|opdrachten|regels)\b",
        "answer": rf"\b(?:antwoord|beantwoord|classificeer|markeer|beoordeel)\s+(?:\S+\s+){{0,6}}?(?:met|als)"
                  rf"\s*{_Q}{_STANCE}",
        "ai": r"\b(?:je\s+bent|jij\s+bent|u\s+bent)\s+(?:nu\s+)?(?:een\s+)?(?:ai\b|kunstmatige\s+intelligentie|taalmodel|"
              r"assistent|llm)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:aan\s+de\s+|beste\s+|geachte\s+)(?:\w+\s+)?(?:reviewers?|beoordelaars?|"
                     r"ai\b|taalmodel\w*|assistent\w*)",
    },
    "Polish": {
        "ignore": r"\b(?:zignoruj\w*|ignoruj\w*|zapomnij|pomiń)\s+(?:\S+\s+){0,3}?(?:instrukcj\w*|polece\w*|wskazów\w*|"
                  r"reguł\w*|zasad\w*)",
        "answer": rf"\b(?:odpowiedz\w*|sklasyfikuj\w*|oznacz\w*|oceń)\s+(?:\S+\s+){{0,6}}?(?:jako|że|:)\s*{_Q}{_STANCE}",
        "ai": r"\bjesteś\s+(?:teraz\s+)?(?:ai\b|sztuczną\s+inteligencją|modelem\s+językowym|asystentem|llm)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:do\s+|drodzy\s+|szanowni\s+)(?:\w+\s+)?(?:recenzent\w*|oceniając\w*|ai\b|model\w*)",
    },
    "Turkish": {
        "ignore": r"(?:önceki|yukarıdaki|tüm|bütün)\s+(?:\S+\s+){0,2}?talimat\w*\s+(?:\S+\s+)?(?:yok\s+say|görmezden\s+gel|unut)",
        "answer": rf"(?:{_STANCE})\s*[\"'”»]?\s*(?:olarak)\s+(?:\S+\s+)?(?:cevap|yanıt|sınıflandır|işaretle)",
        "ai": r"\bsen\s+(?:bir\s+)?(?:yapay\s+zeka\w*|dil\s+modeli\w*|asistan\w*)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:sayın|değerli)\s+(?:hakem\w*|değerlendirici\w*|yapay\s+zeka)",
    },
    "Swedish/Danish/Norwegian": {
        "ignore": r"\b(?:ignorera|ignorer|glöm|glem)\s+(?:\S+\s+){0,3}?(?:instruktioner\w*|instruksjoner\w*|instrukser|"
                  r"anvisningar\w*|regler\w*)",
        "ai": r"\b(?:du\s+är|du\s+er)\s+(?:nu\s+)?(?:en\s+)?(?:ai\b|sprogmodel|språkmodell|assistent)",
    },
    "Czech/Slovak": {
        "ignore": r"\b(?:ignoruj\w*|zapomeň|zabudni)\s+(?:\S+\s+){0,3}?(?:pokyn\w*|instrukc\w*|příkaz\w*|pravidl\w*)",
    },
    "Russian/Ukrainian": {
        "ignore": r"(?:игнорир\w*|проигнорир\w*|забуд\w*|не\s+обращай\w*\s+внимани\w*\s+на|пренебре\w*|отбрось\w*|"
                  r"ігнору\w*|проігнору\w*|забудь\w*)\s+(?:\S+\s+){0,3}?(?:инструкци\w*|указани\w*|правил\w*|"
                  r"команд\w*|промпт\w*|подсказк\w*|інструкці\w*|вказівк\w*)",
        "answer": rf"(?:ответь\w*|отвечай\w*|классифицир\w*|пометь\w*|отметь\w*|оцени\w*|укажи\w*|дай\w*|"
                  rf"відповід\w*|познач\w*)\s+(?:\S+\s+){{0,6}}?(?:как|что|як|що|:)\s*{_Q}{_STANCE}",
        "ai": r"(?:ты|вы|ти)\s*[—–-]?\s*(?:теперь\s+)?(?:являешься\s+|являетесь\s+)?(?:\w+\s+)?(?:ии\b|ші\b|"
              r"искусственн\w*\s+интеллект\w*|штучн\w*\s+інтелект\w*|языков\w*\s+модел\w*|мовн\w*\s+модел\w*|"
              r"ассистент\w*|асистент\w*|рецензент\w*)",
        "addressed": r"(?:^|[.!?:;]\s*)(?:уважаем\w*\s+|дорог\w*\s+|шановн\w*\s+|к\s+сведению\s+|для\s+|вниманию\s+)?"
                     r"(?:рецензент\w*|эксперт\w*|оценщик\w*|ии\b|модел\w*|ассистент\w*)\s*[:,!]",
    },
    "Chinese": {
        "ignore": r"(?:忽略|忽视|忽視|无视|無視|忘记|忘記|忘掉|不要理会|不要理會|别管|別管|跳过|跳過|不用管|撇开|撇開)\s*(?:掉)?"
                  r"\s*(?:之前|以前|先前|前面|上面|上述|此前|所有|全部|原有|原来|原來|系统|系統|一切)\S{0,8}?"
                  r"(?:指令|指示|说明|說明|提示|命令|规则|規則|要求|设定|設定)",
        "answer": rf"(?:回答|回复|回覆|答复|答覆|输出|輸出|判定|判断|判斷|分类|分類|标记|標記|评为|評為|归类|歸類|认定|認定|视为|視為)"
                  rf"\s*(?:为|為|成|是|:|：)\s*{_Q}{_STANCE}",
        "ai": r"你\s*(?:现在)?\s*(?:是|現在是|现在是|作为|作為)\s*(?:一个|一個|一名|一位)?\s*(?:AI|人工智能|人工智慧|语言模型|語言模型|"
              r"大模型|助手|助理|审稿|審稿|评审|評審)",
        "addressed": r"(?:致|给|給|亲爱的|親愛的|尊敬的)?\s*(?:各位)?\s*(?:审稿人|審稿人|审稿专家|審稿專家|评审|評審|评估者|評估者|"
                     r"评阅人|評閱人|AI|人工智能|模型)\s*(?:们|們)?\s*[:：,，]\s*\S{0,60}?(?:请|請|务必|務必|必须|必須)",
        "please": r"(?:请|請)\s*(?:各位)?\s*(?:审稿人|審稿人|评审|評審|模型|AI|人工智能)?\s*(?:务必|務必)?\s*"
                  r"(?:批准|接受|通过|通過|给予|給予|打高分|评为|評為|判定|回答|忽略|忽視|忽视)",
    },
    "Japanese": {
        "ignore": r"(?:以前|前|上記|これまで|先ほど|すべて|全て|以上|元)\s*の\s*(?:すべての|全ての)?\s*(?:指示|命令|指令|プロンプト|"
                  r"ルール|説明|設定)\s*(?:を|は)\s*(?:すべて|全て)?\s*(?:無視|忘れ|破棄)",
        "answer": rf"{_STANCE}\s*[」』\"”]?\s*(?:と|として)\s*(?:回答|答え|分類|判定|評価|ラベル付け|出力)",
        "ai": r"(?:あなた|君|貴方)\s*は\s*(?:今から\s*)?(?:AI|人工知能|言語モデル|アシスタント|査読者|評価者)",
        "addressed": r"(?:査読者|審査員|評価者|レビュアー|AI|モデル)\s*(?:の皆様|の皆さん|各位|様|へ)\s*[:：、,]?\s*\S{0,60}?"
                     r"(?:ください|下さい|せよ)",
    },
    "Korean": {
        "ignore": r"(?:이전|앞의|위의|기존|모든|앞선|이전의)\s*(?:모든\s*)?(?:지시|명령|지침|프롬프트|규칙|안내)\S{0,4}\s*"
                  r"(?:을|를)?\s*(?:무시|잊어|잊으)",
        "answer": rf"{_STANCE}\s*[\"'”]?\s*(?:로|으로|라고)\s*(?:답변|대답|응답|분류|판정|평가|표시|출력)",
        "ai": r"(?:당신|너)\s*(?:은|는)\s*(?:이제\s*)?(?:AI|인공지능|언어\s*모델|어시스턴트|심사위원|평가자)",
        "addressed": r"(?:심사위원|검토자|리뷰어|평가자|AI|인공지능|모델)\s*(?:님|여러분|분들)?\s*(?:께|에게)?\s*[:：,]\s*"
                     r"\S{0,60}?(?:주십시오|주세요|바랍니다|하십시오|하세요)",
    },
    "Arabic": {
        "ignore": r"(?:تجاهل|انس|إنس|اهمل|أهمل)\S*\s+(?:\S+\s+){0,3}?(?:التعليمات|الأوامر|التوجيهات|الإرشادات)",
        "ai": r"(?:أنت|انت)\s+(?:\S+\s+)?(?:ذكاء\s+اصطناعي|نموذج\s+لغوي|مساعد)",
    },
    "Hindi": {
        "ignore": r"(?:पिछले|पिछली|पहले\s+के|सभी|ऊपर\s+के)\s+(?:\S+\s+){0,2}?(?:निर्देशों|निर्देश|आदेशों)\s+(?:को\s+)?"
                  r"(?:अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल)",
        "ai": r"(?:आप|तुम)\s+(?:एक\s+)?(?:AI|एआई|भाषा\s+मॉडल|सहायक)\s+(?:हैं|हो)",
    },
    "Indonesian/Malay": {
        "ignore": r"\b(?:abaikan|lupakan|acuhkan)\s+(?:\S+\s+){0,3}?(?:instruksi|petunjuk|perintah|arahan|aturan)\b",
        "ai": r"\b(?:kamu|anda)\s+(?:adalah\s+)?(?:sebuah\s+)?(?:ai\b|kecerdasan\s+buatan|model\s+bahasa|asisten)",
    },
    "Vietnamese": {
        "ignore": r"\b(?:bỏ\s+qua|phớt\s+lờ|quên)\s+(?:\S+\s+){0,3}?(?:hướng\s+dẫn|chỉ\s+dẫn|chỉ\s+thị|lệnh|quy\s+tắc)",
        "ai": r"\bbạn\s+là\s+(?:một\s+)?(?:ai\b|trí\s+tuệ\s+nhân\s+tạo|mô\s+hình\s+ngôn\s+ngữ|trợ\s+lý)",
    },
}

# In Latin-script languages a note is addressed when the addressee is followed by a colon or a
# comma ("An die Gutachter:", "Estimados revisores,"): short words like "do" or "al" are English too.
for _language in ("German", "French", "Spanish", "Portuguese", "Italian", "Dutch", "Polish", "Turkish"):
    _LANGUAGES[_language]["addressed"] += r"\s*[:,!—]"

_KIND = {"ignore": "ignore previous instructions", "answer": "dictates a verdict", "ai": "addressed to a model",
         "addressed": "addressed to a model or reviewer", "please": "dictates a verdict"}

# Labels that are not everyday English verbs ("supports", "refines" are: "supports 中文 input").
_LABEL = r"(?:contradicts|overturned|weakened)"
_OTHER_SCRIPT = r"[\u0400-\u04ff\u0600-\u06ff\u0900-\u097f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"

LANGUAGE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (f"instruction ({language}): {_KIND[kind]}", re.compile(pattern, re.I))
    for language, kinds in _LANGUAGES.items()
    for kind, pattern in kinds.items()
) + (
    ("instruction: a stance label in quotation marks",
     re.compile(r"[\"“”„«»‘’「」『』]\s*(?:contradicts|overturned|weakened)\s*"
                r"[\"“”„«»‘’「」『』]", re.I)),
    ("instruction: a stance label inside text in another script",
     re.compile(rf"{_OTHER_SCRIPT}[^.!?。！？\n]{{0,40}}\b{_LABEL}\b|\b{_LABEL}\b[^.!?。！？\n]{{0,40}}{_OTHER_SCRIPT}",
                re.I)),
)
