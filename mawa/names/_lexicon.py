"""Curated equivalence dictionary of common Levantine and Iraqi names, and place names.

Why a hand-written list: a consonant skeleton cannot tell محمد from محمود (both m-h-m-d once
vowels go) or عمر from عمرو, and string distance puts Omar/Amr as close as Mohammed/Muhammad.
For the few hundred names that make up most of the population, a person who knows the names
says which spellings are one name. Names not listed fall back to skeleton comparison.

Each line: ``canonical id: Arabic forms | Latin spellings``. Arabic forms are normalised and
Latin spellings are folded when loaded, so listing one spelling per folding class suffices.
Spellings were written from general knowledge of the naming conventions (English, French,
Turkish-influenced), not copied from any benchmark data, so held-out evaluation is honest.
"""

from __future__ import annotations

GIVEN_NAMES = """
muhammad: محمد | muhammad mohammed mohamed mohamad mohammad muhammed mohamud mouhamad mouhamed mohammd mhd mohd mohamet muhamad mehmet mehmed mohmmad mohamd
ahmad: احمد | ahmad ahmed ahmet ahmd achmad
mahmud: محمود | mahmud mahmoud mahmood mahmut
mustafa: مصطفي | mustafa mostafa moustafa mustapha mostapha mustafaa mistafa
ali: علي | ali aly alee
alaa: علاء علا | alaa ala alaaa allaa
hasan: حسن | hasan hassan hasen hassen hassane hacene hacen hasun
husayn: حسين | husayn hussein husein hussain husain hossein hosein hocine houcine houssein hussien husseyn hussin husen huseyin hossain
hasanayn: حسنين | hasanayn hassanein hasanain
muhsin: محسن | muhsin mohsen mohsin muhsen
hamid: حامد | hamid hamed haamed
hamad: حمد | hamad hamd
hamdi: حمدي | hamdi hamdy
hamza: حمزه | hamza hamzah hamze hamzeh
hamada: حماده | hamada hamadeh
hammud: حمود | hammud hamoud hamood
khalid: خالد | khalid khaled khaleed khalad
khalil: خليل | khalil khaleel khalyl
omar: عمر | omar umar omer umer oumar aomar omor
amr: عمرو | amr amro amrou amru amre
ammar: عمار | ammar amar ammer_
amer: عامر | amer aamer
amir: امير | amir ameer emir
umran: عمران | omran umran imran emran
uthman: عثمان | uthman othman osman usman otman outhman
yusuf: يوسف | yusuf yousef youssef yousif yousuf yusef youcef yussef yosef yousof joseph jusuf youssouf
ibrahim: ابراهيم | ibrahim ebrahim ibraheem brahim ibrahem abraham ebraheem
ismail: اسماعيل | ismail ismael esmail ismaeel ismayil smail ismaiel
ishaq: اسحاق | ishaq ishak ishaaq isaac
yaqub: يعقوب | yaqub yacoub yakoub yaqoub yakub jacob yaacoub yaaqub
musa: موسي | musa mousa moussa moosa mosa
isa: عيسي | isa issa eisa aissa
yahya: يحيي | yahya yehia yahia yehya yihya yahyaa
zakariya: زكريا | zakariya zakaria zakariyya zakariah zakaria zakarya
sulayman: سليمان | sulayman suleiman sulaiman soliman slimane suleyman soleiman sleiman
dawud: داود داوود | dawud daoud dawood daud dawoud
ayyub: ايوب | ayyub ayoub ayub ayoob eyup
yunus: يونس | yunus younes younis yunes younus
ilyas: الياس | ilyas elias elyas ilias iliass
idris: ادريس | idris idrees edris
nuh: نوح | nuh nouh nooh
adam: ادم | adam aadam
jamal: جمال | jamal gamal djamal jammal
jamil: جميل | jamil jameel gamil djamil jamel
kamal: كمال | kamal kamel_ kemal
kamil: كامل | kamil kamel kaamel
karim: كريم | karim kareem kerim
samir: سمير | samir sameer semir
samer: سامر | samer samir_ saamer
sami: سامي | sami samy
salim: سليم | salim saleem selim slim
salem: سالم | salem salim_ saalem
salih: صالح | salih saleh salah_ saalih
salah: صلاح | salah salaheddine_ slah
said: سعيد | said saeed saied sayed_ saiid
sayyid: سيد | sayyid sayed sayid seyed said_
saad: سعد | saad saed sad saadd
saud: سعود | saud saoud saood
sultan: سلطان | sultan soltan
faysal: فيصل | faysal faisal faycal feisal fayssal
fahad: فهد | fahad fahd fahed
fadi: فادي | fadi fady
fawzi: فوزي | fawzi fawzy fouzi fauzi
fuad: فواد فؤاد | fuad fouad foad fawad
firas: فراس | firas feras
faris: فارس | faris fares
ghassan: غسان | ghassan ghasan rassan
hani: هاني | hani hany
haytham: هيثم | haytham haitham heitham haysam
husam: حسام | husam hussam hossam houssam
hisham: هشام | hisham hesham hicham hishem
haydar: حيدر | haydar haider hayder heidar
hadi: هادي | hadi hady
imad: عماد | imad emad imed
iyad: اياد | iyad eyad ayad iyadh
ayman: ايمن | ayman aymen eiman
anas: انس | anas anass
amin: امين | amin ameen emin lamine
anwar: انور | anwar anouar anour
asad: اسد | asad assad asaad_
asaad: اسعد | asaad assaad asad_ asaaad asad__ esaad
ashraf: اشرف | ashraf achraf
adil: عادل | adil adel aadel
adnan: عدنان | adnan adanan
aziz: عزيز | aziz azeez
basil: باسل | basil basel bassel
bashar: بشار | bashar bachar
bashir: بشير | bashir bachir basheer bechir
bassam: بسام | bassam basam
bakr: بكر | bakr bakir baker
bilal: بلال | bilal belal
diya: ضياء ضيا | diya diaa dia diyaa dhiya
fadl: فضل | fadl fadel fadhel fadhl
fathi: فتحي | fathi fathy fethi
ghazi: غازي | ghazi ghazy
habib: حبيب | habib habeeb
hakim: حكيم | hakim hakeem
hazim: حازم | hazim hazem
jihad: جهاد | jihad jehad gihad
jalal: جلال | jalal jalel galal
jawad: جواد | jawad jaouad javad
luay: لوي لؤي | luay louai loay lu_ay luai
lutfi: لطفي | lutfi lotfi lutfy
mahir: ماهر | mahir maher
majid: ماجد مجيد | majid majed maged madjid
malik: مالك | malik malek
mamun: مامون مأمون | mamun mamoun mamoon
mansur: منصور | mansur mansour mansoor
marwan: مروان | marwan merwan
mazin: مازن | mazin mazen
muhannad: مهند | muhannad mohannad mouhanad muhanad
munir: منير | munir mounir moneer
murad: مراد | murad mourad morad
musab: مصعب | musab mosab mousab musaab
mutaz: معتز | mutaz moataz mutasim_ motaz moutaz
nabil: نبيل | nabil nabeel
nadir: نادر | nadir nader
naji: ناجي | naji nagi
najib: نجيب | najib naguib nagib najeeb
nasir: ناصر | nasir nasser naser nacer
nasr: نصر | nasr naser_ nasar
nizar: نزار | nizar nezar
nur: نور | nur nour noor
qasim: قاسم | qasim qasem kassem qassem kassim qassim kasim ghasem gacem kacem qaasim
qays: قيس | qays qais kais kays
rabi: ربيع | rabi rabie rabih rabia_
ridwan: رضوان | ridwan radwan redouane redwan rizwan
rafiq: رفيق | rafiq rafik rafeek
raid: رائد رايد | raid raed raeed
rami: رامي | rami ramy
rashid: رشيد | rashid rachid rasheed
riyad: رياض | riyad riad riyadh riyadh ryad
sabri: صبري | sabri sabry
saqr: صقر | saqr sakr saker
shadi: شادي | shadi shady chadi chady
sharif: شريف | sharif cherif sherif shareef
shukri: شكري | shukri choukri shukry
suhayl: سهيل | suhayl suhail souhail suheil sohail
tahir: طاهر | tahir taher tahar
talal: طلال | talal tallal
tamir: تامر | tamir tamer
tariq: طارق | tariq tarek tarik tareq
tawfiq: توفيق | tawfiq tawfik toufik tawfeeq toufiq
wail: وائل وايل | wail wael wa_il
walid: وليد | walid waleed oualid
wasim: وسيم | wasim waseem ouassim wassim
yasin: ياسين | yasin yassin yaseen yacine
yasir: ياسر | yasir yasser yaser
yazan: يزن | yazan yazen
zayd: زيد | zayd zaid zeid
ziyad: زياد | ziyad ziad ziyyad
zuhayr: زهير | zuhayr zuhair zouhair zoheir
jabir: جابر | jabir jaber
jafar: جعفر | jafar jaafar jaffar
abbas: عباس | abbas abas
mahdi: مهدي | mahdi mehdi mahdy
murtada: مرتضي | murtada murtadha mortada mourtada
mujtaba: مجتبي | mujtaba mojtaba
sadiq: صادق | sadiq sadek sadik sadeq
kazim: كاظم | kazim kadhim kazem kadim
qutayba: قتيبه | qutayba qutaiba koutaiba qutaybah
usama: اسامه | usama osama oussama ousama usamah
abu_bakr: ابوبكر | abubakr abubakar aboubakr
hudhayfa: حذيفه | hudhayfa huzaifa houdaifa hudhaifa hozaifa
muadh: معاذ | muadh moaz muaz mouad maaz
nawaf: نواف | nawaf nawwaf
nidal: نضال | nidal nedal
raad: رعد | raad rad_ raed_
rawad: رواد | rawad
salman: سلمان | salman selman
shakir: شاكر | shakir shaker chaker
taha: طه | taha taha_
yaman: يمان | yaman yamen
zakir: ذاكر | zakir dhakir thaker
wissam: وسام | wissam wisam ouissam
hilal: هلال | hilal helal
maher: مهر | mehr_
aysar: ايسر | aysar
sufyan: سفيان | sufyan sofian soufiane sofyan
ubayda: عبيده | ubayda obeida obaida oubaida ubaida
ghaith: غيث | ghaith ghayth ghaieth
hafiz: حافظ | hafiz hafez hafedh
hussam: حسام | hussam_
rawan: روان | rawan
fatima: فاطمه | fatima fatma fatimah fatemeh fatme
aisha: عائشه عايشه | aisha aicha aysha ayesha aishah
khadija: خديجه | khadija khadijah khadidja khadeeja
zaynab: زينب | zaynab zainab zeinab zeynab
maryam: مريم | maryam mariam meryem miriam mariyam
amina: امينه | amina aminah amena
layla: ليلي ليلا | layla leila laila leyla lila
huda: هدي | huda houda hoda
rana: رنا | rana
rania: رانيا | rania ranya
hala: هاله هالا | hala hale
hanan: حنان | hanan hanane
iman: ايمان | iman eman imane
samira: سميره | samira sameera
salma: سلمي | salma selma
suad: سعاد | suad souad soad
nadia: ناديه ناديا | nadia nadiya nadya
najwa: نجوي | najwa najoua
wafa: وفاء وفا | wafa wafaa
ghada: غاده | ghada
lina: لينا | lina leena
dima: ديما | dima
rasha: رشا | rasha racha
rim: ريم | rim reem
sara: ساره سارا | sara sarah
hiba: هبه | hiba heba hibah
asma: اسماء اسما | asma asmaa esma
zahra: زهراء زهرا | zahra zahraa
suha: سهي | suha soha
manal: منال | manal
muna: مني | muna mona mouna
nawal: نوال | nawal
amal: امل | amal amel
sawsan: سوسن | sawsan sausan
widad: وداد | widad wedad
basma: بسمه | basma
bushra: بشري | bushra boushra bouchra
ruqayya: رقيه | ruqayya ruqaya rokaya roqaya
sumayya: سميه | sumayya sumaya somaya soumaya
khawla: خوله | khawla khaoula khawlah
hajar: هاجر | hajar hajer
halima: حليمه | halima halimah
jamila: جميله | jamila jamilah
karima: كريمه | karima karimah
latifa: لطيفه | latifa latifah
naima: نعيمه | naima naeema
rabia: رابعه | rabia rabiaa
safiya: صفيه | safiya safia safiyya
sukayna: سكينه | sukayna sakina soukaina
umm_kulthum: امكلثوم | ummkulthum
nisrin: نسرين | nisrin nesrine nesreen nisreen
rasmiya: رسميه | rasmiya rasmia
fadia: فاديه | fadia fadiya
"""  # noqa: E501

# The divine names after ʿAbd (ʿAbd al-X) share this table with ordinary given names.
ABD_NAMES = """
allah: له | lah la llah
ilah: اله | ilah ilaah
rahman: الرحمن رحمن | rahman rahmane rehman rahmen
rahim: الرحيم رحيم | rahim raheem rrahim
karim: الكريم | karim kerim
aziz: العزيز | aziz azeez
qadir: القادر قادر | qadir kader kadir qader gader khader
latif: اللطيف لطيف | latif lateef latef
halim: الحليم حليم | halim haleem
majid: المجيد مجيد | majid majeed
nasir: الناصر ناصر | nasir nasser naser
razzaq: الرزاق رزاق | razzaq razak razzak razaq
salam: السلام سلام | salam salaam slam
wahhab: الوهاب وهاب | wahhab wahab ouahab
hamid: الحميد حميد | hamid hameed hamed hamid
jabbar: الجبار جبار | jabbar jabar
ghani: الغني غني | ghani ghany
hakim: الحكيم | hakim hakeem
hadi: الهادي | hadi
basit: الباسط باسط | basit baset
jalil: الجليل جليل | jalil jaleel djalil
fattah: الفتاح فتاح | fattah fatah
munim: المنعم منعم | munim moneim monem moumen
wahid: الواحد واحد | wahid wahed
bari: الباري باري | bari
muttalib: المطلب مطلب | muttalib mutalib
sattar: الستار ستار | sattar satar
ghafur: الغفور غفور | ghafur ghafour
rauf: الرووف رووف الرؤوف | rauf raouf raof
khaliq: الخالق خالق | khaliq khalek khalik
hafiz: الحافظ | hafiz hafez
mahdi: المهدي | mahdi
amir: الامير | amir
muhsin: المحسن | muhsin
qawi: القوي | qawi
samad: الصمد صمد | samad
"""

# Names in ``X al-Din`` compounds (Nur al-Din, Salah al-Din, …); the part before al-Din.
DIN_NAMES = """
nur: نور | nur nour noor
salah: صلاح | salah salaha
izz: عز | izz iz ezz ez
sayf: سيف | sayf saif seif sif
alaa: علاء | alaa ala alae
husam: حسام | husam hossam hussam
jamal: جمال | jamal djamal gamal
kamal: كمال | kamal kamel
nasir: ناصر | nasir nacer
shams: شمس | shams chams
sharaf: شرف | sharaf charaf
diya: ضياء | diya dia diaa zia
badr: بدر | badr bader
baha: بهاء | baha bahaa
muhi: محي محيي | muhi mohi mouhi mohie
taj: تاج | taj tadj
fakhr: فخر | fakhr fakher
khayr: خير | khayr khair kheir
zayn: زين | zayn zain zein
qamar: قمر | qamar kamar
imad: عماد | imad emad
"""

# Cities and governorates of Syria and Iraq, so that birth places meet across scripts.
PLACES = """
aleppo: حلب | aleppo halab haleb alep
damascus: دمشق الشام | damascus dimashq dimachq damas sham ashsham
homs: حمص | homs hims hums
hama: حماه حماة | hama hamah hamat
idlib: ادلب | idlib idleb edlib
raqqa: الرقه رقه | raqqa raqa rakka raqqah arraqqa
deir_ezzor: دير الزور ديرالزور | deirezzor deirezzour deiralzor deirazzur dayrazzawr deir
latakia: اللاذقيه لاذقيه | latakia lattakia lattaquie ladhiqiyah latakiya
tartus: طرطوس | tartus tartous tartouss
daraa: درعا | daraa deraa dara
suwayda: السويداء سويداء | suwayda sweida suwaida
hasakah: الحسكه حسكه | hasakah hasaka hassakeh alhasakah
qamishli: القامشلي قامشلي | qamishli qamishly kamishli
quneitra: القنيطره قنيطره | quneitra qunaytirah
baghdad: بغداد | baghdad bagdad
mosul: الموصل موصل | mosul mossoul mawsil mousl
basra: البصره بصره | basra basrah bassora
kirkuk: كركوك | kirkuk kerkuk
erbil: اربيل | erbil arbil irbil hawler
najaf: النجف نجف | najaf nedjef
karbala: كربلاء كربلا | karbala kerbala
ramadi: الرمادي رمادي | ramadi
fallujah: الفلوجه فلوجه | fallujah falluja fallouja
tikrit: تكريت | tikrit
samarra: سامراء سامرا | samarra
sulaymaniyah: السليمانيه سليمانيه | sulaymaniyah sulaimaniya slemani
nasiriyah: الناصريه ناصريه | nasiriyah nasiriya
kut: الكوت كوت | kut kout
hilla: الحله حله | hilla hillah
diwaniyah: الديوانيه ديوانيه | diwaniyah diwaniya
baqubah: بعقوبه | baqubah baquba
"""
