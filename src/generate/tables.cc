#include "generate/tables.h"

namespace vesta::generate {

namespace {

// ---- Long-term conditions -------------------------------------------------------------------
// Prevalence of diagnosed disease by age at the reference date, before risk modifiers, rounded
// from CDC summaries (NHANES, NHIS, BRFSS). For obesity and smoking it is the trait itself
// (BMI >= 30; current cigarette smoking); patient_builder.cc codes a Condition for part of them.

constexpr AgeBand kObesityBands[] = {{0, 0.0, 0.0},    {2, 0.18, 0.17},  {20, 0.40, 0.39},
                                     {40, 0.44, 0.44}, {60, 0.42, 0.43}, {80, 0.25, 0.25}};
constexpr AgeBand kSmokerBands[] = {{0, 0.0, 0.0},    {14, 0.03, 0.03}, {18, 0.12, 0.10},
                                    {25, 0.15, 0.12}, {45, 0.15, 0.13}, {65, 0.09, 0.08}};
constexpr AgeBand kHypertensionBands[] = {{0, 0.0, 0.0},    {18, 0.06, 0.04}, {30, 0.12, 0.09},
                                          {40, 0.24, 0.21}, {50, 0.36, 0.34}, {60, 0.50, 0.50},
                                          {70, 0.62, 0.65}};
constexpr AgeBand kDiabetesBands[] = {{0, 0.0, 0.0},    {18, 0.01, 0.01}, {30, 0.03, 0.03},
                                      {40, 0.06, 0.05}, {50, 0.11, 0.09}, {60, 0.17, 0.14},
                                      {70, 0.20, 0.17}};
constexpr AgeBand kHyperlipidemiaBands[] = {{0, 0.0, 0.0},    {20, 0.05, 0.04}, {30, 0.10, 0.08},
                                            {40, 0.22, 0.19}, {50, 0.32, 0.30}, {60, 0.42, 0.42},
                                            {70, 0.47, 0.47}};
constexpr AgeBand kAsthmaBands[] = {
    {0, 0.0, 0.0}, {2, 0.09, 0.07}, {18, 0.06, 0.10}, {65, 0.06, 0.09}};
constexpr AgeBand kCopdBands[] = {
    {0, 0.0, 0.0}, {40, 0.015, 0.015}, {50, 0.04, 0.04}, {65, 0.08, 0.08}, {75, 0.10, 0.09}};
constexpr AgeBand kCkdBands[] = {
    {0, 0.0, 0.0}, {40, 0.01, 0.01}, {60, 0.04, 0.05}, {70, 0.08, 0.09}, {80, 0.12, 0.13}};
constexpr AgeBand kDepressionBands[] = {
    {0, 0.0, 0.0}, {12, 0.05, 0.09}, {18, 0.07, 0.13}, {45, 0.07, 0.12}, {65, 0.05, 0.09}};

constexpr Diagnosis kObesityDx[] = {
    {"E66.9", "Obesity, unspecified", "414916001", "Obesity (disorder)"},
    {"E66.01", "Morbid (severe) obesity due to excess calories", "238136002",
     "Morbid obesity (disorder)"}};
constexpr double kObesityW[] = {1, 0};  // patient_builder.cc picks E66.01 for BMI >= 40
constexpr Diagnosis kSmokerDx[] = {{"F17.210", "Nicotine dependence, cigarettes, uncomplicated",
                                    "56294008", "Nicotine dependence (disorder)"},
                                   {"Z72.0", "Tobacco use", "77176002", "Smoker (finding)"}};
constexpr double kSmokerW[] = {0.6, 0.4};
constexpr Diagnosis kHypertensionDx[] = {
    {"I10", "Essential (primary) hypertension", "59621000", "Essential hypertension (disorder)"}};
constexpr double kOneW[] = {1};
constexpr Diagnosis kDiabetesDx[] = {
    {"E11.9", "Type 2 diabetes mellitus without complications", "44054006",
     "Diabetes mellitus type 2 (disorder)"},
    {"E11.65", "Type 2 diabetes mellitus with hyperglycemia", "", ""},
    {"E11.40", "Type 2 diabetes mellitus with diabetic neuropathy, unspecified", "368581000119106",
     "Neuropathy due to type 2 diabetes mellitus (disorder)"},
    // Chosen by patient_builder.cc when the patient also has CKD.
    {"E11.22", "Type 2 diabetes mellitus with diabetic chronic kidney disease", "127013003",
     "Disorder of kidney due to diabetes mellitus (disorder)"}};
constexpr double kDiabetesW[] = {0.7, 0.2, 0.1, 0};
constexpr Diagnosis kHyperlipidemiaDx[] = {
    {"E78.5", "Hyperlipidemia, unspecified", "55822004", "Hyperlipidemia (disorder)"},
    {"E78.00", "Pure hypercholesterolemia, unspecified", "13644009",
     "Hypercholesterolemia (disorder)"},
    {"E78.1", "Pure hyperglyceridemia", "302870006", "Hypertriglyceridemia (disorder)"},
    {"E78.2", "Mixed hyperlipidemia", "", ""}};
constexpr double kHyperlipidemiaW[] = {0.5, 0.25, 0.1, 0.15};
constexpr Diagnosis kAsthmaDx[] = {
    {"J45.909", "Unspecified asthma, uncomplicated", "195967001", "Asthma (disorder)"},
    {"J45.20", "Mild intermittent asthma, uncomplicated", "", ""},
    {"J45.30", "Mild persistent asthma, uncomplicated", "", ""}};
constexpr double kAsthmaW[] = {0.5, 0.3, 0.2};
constexpr Diagnosis kCopdDx[] = {{"J44.9", "Chronic obstructive pulmonary disease, unspecified",
                                  "13645005", "Chronic obstructive lung disease (disorder)"}};
// The stage decides the eGFR range in patient_builder.cc (index order matters).
constexpr Diagnosis kCkdDx[] = {{"N18.2", "Chronic kidney disease, stage 2 (mild)", "431856006",
                                 "Chronic kidney disease stage 2 (disorder)"},
                                {"N18.30", "Chronic kidney disease, stage 3 unspecified",
                                 "433144002", "Chronic kidney disease stage 3 (disorder)"},
                                {"N18.4", "Chronic kidney disease, stage 4 (severe)", "431857002",
                                 "Chronic kidney disease stage 4 (disorder)"}};
constexpr double kCkdW[] = {0.3, 0.55, 0.15};
constexpr Diagnosis kDepressionDx[] = {
    {"F32.A", "Depression, unspecified", "35489007", "Depressive disorder (disorder)"},
    {"F32.9", "Major depressive disorder, single episode, unspecified", "370143000",
     "Major depressive disorder (disorder)"},
    {"F33.1", "Major depressive disorder, recurrent, moderate", "", ""}};
constexpr double kDepressionW[] = {0.45, 0.35, 0.2};

// The ICD-9-CM codes of the same conditions (legacy records), chosen so that the CMS forward GEM
// gives each kind of outcome: exact (250.00 -> E11.9), approximate (311 -> F32.9), and several
// alternatives (401.9 -> I10 or I16.9).
constexpr LegacyIcd9 kLegacyIcd9[] = {
    {"E66.9", "278.00", "Obesity, unspecified"},
    {"E66.01", "278.01", "Morbid obesity"},
    {"F17.210", "305.1", "Tobacco use disorder"},
    {"Z72.0", "305.1", "Tobacco use disorder"},
    {"I10", "401.9", "Unspecified essential hypertension"},
    {"E11.9", "250.00",
     "Diabetes mellitus without mention of complication, type II or unspecified type, not "
     "stated as uncontrolled"},
    {"E11.65", "250.02",
     "Diabetes mellitus without mention of complication, type II or unspecified type, "
     "uncontrolled"},
    {"E11.40", "250.60",
     "Diabetes with neurological manifestations, type II or unspecified type, not stated as "
     "uncontrolled"},
    {"E11.22", "250.40",
     "Diabetes with renal manifestations, type II or unspecified type, not stated as "
     "uncontrolled"},
    {"E78.5", "272.4", "Other and unspecified hyperlipidemia"},
    {"E78.00", "272.0", "Pure hypercholesterolemia"},
    {"E78.1", "272.1", "Pure hyperglyceridemia"},
    {"E78.2", "272.2", "Mixed hyperlipidemia"},
    {"J45.909", "493.90", "Asthma, unspecified type, unspecified"},
    {"J45.20", "493.90", "Asthma, unspecified type, unspecified"},
    {"J45.30", "493.90", "Asthma, unspecified type, unspecified"},
    {"J44.9", "496", "Chronic airway obstruction, not elsewhere classified"},
    {"N18.2", "585.2", "Chronic kidney disease, Stage II (mild)"},
    {"N18.30", "585.3", "Chronic kidney disease, Stage III (moderate)"},
    {"N18.4", "585.4", "Chronic kidney disease, Stage IV (severe)"},
    {"F32.A", "311", "Depressive disorder, not elsewhere classified"},
    {"F32.9", "296.20", "Major depressive affective disorder, single episode, unspecified"},
    {"F33.1", "296.32", "Major depressive affective disorder, recurrent episode, moderate"},
};

constexpr Drug kHypertensionDrugs[] = {
    {"314076", "lisinopril 10 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1},
    {"197361", "amlodipine 5 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1},
    {"310798", "hydrochlorothiazide 25 MG Oral Tablet", "Take 1 tablet by mouth every morning", 1}};
constexpr Drug kDiabetesDrugs[] = {
    {"860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
     "Take 1 tablet by mouth twice daily with meals", 2}};
constexpr Drug kHyperlipidemiaDrugs[] = {
    {"617310", "atorvastatin 20 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1},
    {"312961", "simvastatin 20 MG Oral Tablet", "Take 1 tablet by mouth at bedtime", 1}};
constexpr Drug kAsthmaDrugs[] = {
    {"745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
     "Inhale 2 puffs every 4 to 6 hours as needed for wheezing", 0},
    {"895994", "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
     "Inhale 2 puffs twice daily", 2}};
constexpr Drug kCopdDrugs[] = {
    {"896209",
     "60 ACTUAT fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT Dry Powder "
     "Inhaler",
     "Inhale 1 puff twice daily", 2},
    {"745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
     "Inhale 2 puffs every 4 to 6 hours as needed for shortness of breath", 0}};
constexpr Drug kDepressionDrugs[] = {
    {"310385", "fluoxetine 20 MG Oral Capsule", "Take 1 capsule by mouth once daily", 1},
    {"312940", "sertraline 50 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1}};

const ChronicDef kChronic[kChronicCount] = {
    {Chronic::kObesity, "obesity", 2, kObesityBands, kObesityDx, kObesityW, {}, 0},
    {Chronic::kSmoker, "tobacco use", 14, kSmokerBands, kSmokerDx, kSmokerW, {}, 0},
    {Chronic::kHypertension, "hypertension", 18, kHypertensionBands, kHypertensionDx, kOneW,
     kHypertensionDrugs, 0.75},
    {Chronic::kDiabetes, "type 2 diabetes", 18, kDiabetesBands, kDiabetesDx, kDiabetesW,
     kDiabetesDrugs, 0.85},
    {Chronic::kHyperlipidemia, "hyperlipidemia", 20, kHyperlipidemiaBands, kHyperlipidemiaDx,
     kHyperlipidemiaW, kHyperlipidemiaDrugs, 0.6},
    {Chronic::kAsthma, "asthma", 2, kAsthmaBands, kAsthmaDx, kAsthmaW, kAsthmaDrugs, 0.9},
    {Chronic::kCopd, "COPD", 40, kCopdBands, kCopdDx, kOneW, kCopdDrugs, 0.8},
    {Chronic::kCkd, "chronic kidney disease", 40, kCkdBands, kCkdDx, kCkdW, {}, 0},
    {Chronic::kDepression, "depression", 12, kDepressionBands, kDepressionDx, kDepressionW,
     kDepressionDrugs, 0.6},
};

// ---- Acute problems ---------------------------------------------------------------------------

constexpr Drug kAcetaminophen[] = {
    {"313782", "acetaminophen 325 MG Oral Tablet",
     "Take 2 tablets by mouth every 6 hours as needed for pain or fever", 0}};
constexpr Drug kIbuprofen[] = {{"310965", "ibuprofen 200 MG Oral Tablet",
                                "Take 2 tablets by mouth every 6 hours as needed for pain", 0}};
constexpr Drug kAmoxicillin[] = {
    {"308182", "amoxicillin 250 MG Oral Capsule", "Take 1 capsule by mouth three times daily", 3}};
constexpr Drug kAmoxClav[] = {{"562251", "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet",
                               "Take 1 tablet by mouth every 8 hours", 3}};
constexpr Drug kOxycodoneApap[] = {
    {"1049221", "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet",
     "Take 1 tablet by mouth every 6 hours as needed for severe pain", 0}};
constexpr Drug kClopidogrel[] = {
    {"309362", "clopidogrel 75 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1}};

// clang-format off
const AcuteDef kAcute[] = {
    // Ambulatory.
    {{"J06.9", "Acute upper respiratory infection, unspecified", "54150009",
      "Upper respiratory infection (disorder)"},
     Setting::kAmbulatory, 30, "", "", kAcetaminophen, 0, 10},
    {{"J02.9", "Acute pharyngitis, unspecified", "195662009", "Acute viral pharyngitis (disorder)"},
     Setting::kAmbulatory, 15, "", "", kIbuprofen, 3, 10},
    {{"J01.90", "Acute sinusitis, unspecified", "444814009", "Viral sinusitis (disorder)"},
     Setting::kAmbulatory, 15, "", "", kAcetaminophen, 5, 14},
    {{"J20.9", "Acute bronchitis, unspecified", "10509002", "Acute bronchitis (disorder)"},
     Setting::kAmbulatory, 10, "", "", kAcetaminophen, 0, 14},
    {{"H66.90", "Otitis media, unspecified, unspecified ear", "65363002",
      "Otitis media (disorder)"},
     Setting::kAmbulatory, 10, "", "", kAmoxicillin, 0, 10},
    {{"N39.0", "Urinary tract infection, site not specified", "68566005",
      "Urinary tract infectious disease (disorder)"},
     Setting::kAmbulatory, 10, "", "", kAmoxClav, 5, 7},
    {{"M25.561", "Pain in right knee", "", ""},
     Setting::kAmbulatory, 8, "", "", kIbuprofen, 18, 30},
    // Emergency department. Injuries carry the 7th character A (initial encounter).
    {{"S93.401A", "Sprain of unspecified ligament of right ankle, initial encounter", "44465007",
      "Sprain of ankle (disorder)"},
     Setting::kEmergency, 20, "", "", kIbuprofen, 5, 28},
    {{"S52.501A", "Unspecified fracture of the lower end of right radius, initial encounter for "
      "closed fracture", "65966004", "Fracture of forearm (disorder)"},
     Setting::kEmergency, 10, "274474001", "Bone immobilization (procedure)", kOxycodoneApap, 2,
     56},
    {{"S42.001A", "Fracture of unspecified part of right clavicle, initial encounter for closed "
      "fracture", "58150001", "Fracture of clavicle (disorder)"},
     Setting::kEmergency, 5, "274474001", "Bone immobilization (procedure)", kOxycodoneApap, 2,
     56},
    {{"S61.411A", "Laceration without foreign body of right hand, initial encounter", "284549007",
      "Laceration of hand (disorder)"},
     Setting::kEmergency, 15, "288086009", "Suture open wound (procedure)", {}, 2, 14},
    {{"S06.0X0A", "Concussion without loss of consciousness, initial encounter", "62106007",
      "Concussion with no loss of consciousness (disorder)"},
     Setting::kEmergency, 8, "", "", kAcetaminophen, 5, 21},
    {{"S63.501A", "Unspecified sprain of right wrist, initial encounter", "70704007",
      "Sprain of wrist (disorder)"},
     Setting::kEmergency, 10, "", "", kIbuprofen, 5, 28},
    {{"R07.9", "Chest pain, unspecified", "29857009", "Chest pain (finding)"},
     Setting::kEmergency, 15, "29303009", "Electrocardiographic procedure (procedure)", {}, 30, 1},
    {{"R10.9", "Unspecified abdominal pain", "21522001", "Abdominal pain (finding)"},
     Setting::kEmergency, 12, "", "", {}, 5, 3},
    // Admissions.
    {{"J18.9", "Pneumonia, unspecified organism", "233604007", "Pneumonia (disorder)"},
     Setting::kInpatient, 30, "399208008", "Plain chest X-ray (procedure)", kAmoxClav, 0, 21},
    {{"A41.9", "Sepsis, unspecified organism", "91302008", "Sepsis (disorder)"},
     Setting::kInpatient, 10, "", "", {}, 0, 21},
    {{"I21.4", "Non-ST elevation (NSTEMI) myocardial infarction", "401314000",
      "Acute non-ST segment elevation myocardial infarction (disorder)"},
     Setting::kInpatient, 10, "41976001", "Cardiac catheterization (procedure)", kClopidogrel, 45,
     28},
    {{"I63.9", "Cerebral infarction, unspecified", "230690007",
      "Cerebrovascular accident (disorder)"},
     Setting::kInpatient, 8, "", "", {}, 50, 90},
    {{"N17.9", "Acute kidney failure, unspecified", "14669001",
      "Acute renal failure syndrome (disorder)"},
     Setting::kInpatient, 8, "", "", {}, 40, 14},
    {{"K35.80", "Unspecified acute appendicitis", "85189001", "Acute appendicitis (disorder)"},
     Setting::kInpatient, 10, "80146002", "Appendectomy (procedure)", kAcetaminophen, 5, 14},
};
// clang-format on

// ---- Vaccines (CVX) ---------------------------------------------------------------------------

const VaccineSet kVaccines = {
    {"08", "Hep B, adolescent or pediatric"},
    {"20", "DTaP"},
    {"10", "IPV"},
    {"49", "Hib (PRP-OMP)"},
    {"133", "Pneumococcal conjugate PCV 13"},
    {"03", "MMR"},
    {"21", "varicella"},
    {"83", "Hep A, ped/adol, 2 dose"},
    {"115", "Tdap"},
    {"165", "HPV9"},
    {"114", "meningococcal MCV4P"},
    {"140", "Influenza, seasonal, injectable, preservative free"},
    {"113", "Td (adult) preservative free"},
    {"187", "zoster vaccine recombinant"},
    {"33", "pneumococcal polysaccharide vaccine, 23 valent"},
    {"208",
     "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL "
     "dose"},
};

// ---- Allergies -------------------------------------------------------------------------------

const AllergyDef kAllergies[] = {
    {kRxNorm, "70618", "penicillin", "medication", 0.08, "247472004", "Wheal (finding)"},
    {kRxNorm, "10180", "sulfamethoxazole", "medication", 0.03, "271807003",
     "Eruption of skin (disorder)"},
    {kRxNorm, "2670", "codeine", "medication", 0.02, "422587007", "Nausea (finding)"},
    {kSnomed, "762952008", "Peanut (substance)", "food", 0.02, "39579001",
     "Anaphylaxis (disorder)"},
    {kSnomed, "735029006", "Shellfish (substance)", "food", 0.02, "247472004", "Wheal (finding)"},
    {kSnomed, "111088007", "Latex (substance)", "environment", 0.01, "271807003",
     "Eruption of skin (disorder)"},
    {kSnomed, "256277009", "Grass pollen (substance)", "environment", 0.08, "76067001",
     "Sneezing (finding)"},
    {kSnomed, "260147004", "House dust mite (organism)", "environment", 0.05, "76067001",
     "Sneezing (finding)"},
    {kSnomed, "264287008", "Animal dander (substance)", "environment", 0.04, "418290006",
     "Itching of skin (finding)"},
};

// ---- Places and names ------------------------------------------------------------------------

constexpr City kCities[] = {
    {"Boston", "MA", "021", "617", "-05:00"},         {"Worcester", "MA", "016", "508", "-05:00"},
    {"Providence", "RI", "029", "401", "-05:00"},     {"Hartford", "CT", "061", "860", "-05:00"},
    {"Albany", "NY", "122", "518", "-05:00"},         {"Buffalo", "NY", "142", "716", "-05:00"},
    {"Philadelphia", "PA", "191", "215", "-05:00"},   {"Pittsburgh", "PA", "152", "412", "-05:00"},
    {"Baltimore", "MD", "212", "410", "-05:00"},      {"Richmond", "VA", "232", "804", "-05:00"},
    {"Raleigh", "NC", "276", "919", "-05:00"},        {"Atlanta", "GA", "303", "404", "-05:00"},
    {"Orlando", "FL", "328", "407", "-05:00"},        {"Tampa", "FL", "336", "813", "-05:00"},
    {"Columbus", "OH", "432", "614", "-05:00"},       {"Detroit", "MI", "482", "313", "-05:00"},
    {"Chicago", "IL", "606", "312", "-06:00"},        {"Milwaukee", "WI", "532", "414", "-06:00"},
    {"Minneapolis", "MN", "554", "612", "-06:00"},    {"Saint Louis", "MO", "631", "314", "-06:00"},
    {"Dallas", "TX", "752", "214", "-06:00"},         {"Houston", "TX", "770", "713", "-06:00"},
    {"Denver", "CO", "802", "303", "-07:00"},         {"Phoenix", "AZ", "850", "602", "-07:00"},
    {"Salt Lake City", "UT", "841", "801", "-07:00"}, {"Seattle", "WA", "981", "206", "-08:00"},
    {"Portland", "OR", "972", "503", "-08:00"},       {"Sacramento", "CA", "958", "916", "-08:00"},
    {"San Diego", "CA", "921", "619", "-08:00"},      {"Las Vegas", "NV", "891", "702", "-08:00"},
};

constexpr std::string_view kStreets[] = {
    "Main",     "Oak",    "Pine",     "Maple",    "Cedar",   "Elm",     "Washington", "Lake",
    "Hill",     "Park",   "Walnut",   "Spring",   "North",   "Ridge",   "Church",     "Willow",
    "Mill",     "Sunset", "Highland", "Railroad", "Jackson", "Cherry",  "Lincoln",    "Franklin",
    "Chestnut", "Forest", "Meadow",   "River",    "Center",  "Madison", "Prospect",   "Union"};
constexpr std::string_view kStreetSuffixes[] = {"Street", "Avenue", "Road",  "Lane",     "Drive",
                                                "Court",  "Way",    "Place", "Boulevard"};

constexpr std::string_view kFamilyNames[] = {
    "Smith",    "Johnson",   "Williams",   "Brown",     "Jones",    "Garcia",   "Miller",
    "Davis",    "Rodriguez", "Martinez",   "Hernandez", "Lopez",    "Gonzalez", "Wilson",
    "Anderson", "Thomas",    "Taylor",     "Moore",     "Jackson",  "Martin",   "Lee",
    "Perez",    "Thompson",  "White",      "Harris",    "Sanchez",  "Clark",    "Ramirez",
    "Lewis",    "Robinson",  "Walker",     "Young",     "Allen",    "King",     "Wright",
    "Scott",    "Torres",    "Nguyen",     "Hill",      "Flores",   "Green",    "Adams",
    "Nelson",   "Baker",     "Hall",       "Rivera",    "Campbell", "Mitchell", "Carter",
    "Roberts",  "Gomez",     "Phillips",   "Evans",     "Turner",   "Diaz",     "Parker",
    "Cruz",     "Edwards",   "Collins",    "Reyes",     "Stewart",  "Morris",   "Morales",
    "Murphy",   "Cook",      "Rogers",     "Gutierrez", "Ortiz",    "Morgan",   "Cooper",
    "Peterson", "Bailey",    "Reed",       "Kelly",     "Howard",   "Ramos",    "Kim",
    "Cox",      "Ward",      "Richardson", "Watson",    "Brooks",   "Chavez",   "Wood",
    "James",    "Bennett",   "Gray",       "Mendoza",   "Ruiz",     "Hughes",   "Price",
    "Alvarez",  "Castillo",  "Sanders",    "Patel",     "Myers",    "Long",     "Ross",
    "Foster",   "Jimenez"};
constexpr std::string_view kMaleNames[] = {
    "James",    "Robert",  "John",        "Michael",   "David",   "William", "Richard", "Joseph",
    "Thomas",   "Charles", "Christopher", "Daniel",    "Matthew", "Anthony", "Mark",    "Donald",
    "Steven",   "Paul",    "Andrew",      "Joshua",    "Kenneth", "Kevin",   "Brian",   "George",
    "Timothy",  "Ronald",  "Edward",      "Jason",     "Jeffrey", "Ryan",    "Jacob",   "Gary",
    "Nicholas", "Eric",    "Jonathan",    "Stephen",   "Larry",   "Justin",  "Scott",   "Brandon",
    "Benjamin", "Samuel",  "Gregory",     "Alexander", "Frank",   "Patrick", "Raymond", "Jack",
    "Dennis",   "Jerry",   "Tyler",       "Aaron",     "Jose",    "Adam",    "Nathan",  "Henry",
    "Luis",     "Carlos",  "Ethan",       "Noah",      "Liam",    "Mason",   "Wei",     "Arjun"};
constexpr std::string_view kFemaleNames[] = {
    "Mary",      "Patricia", "Jennifer", "Linda",   "Elizabeth", "Barbara",   "Susan",
    "Jessica",   "Sarah",    "Karen",    "Lisa",    "Nancy",     "Betty",     "Margaret",
    "Sandra",    "Ashley",   "Kimberly", "Emily",   "Donna",     "Michelle",  "Carol",
    "Amanda",    "Dorothy",  "Melissa",  "Deborah", "Stephanie", "Rebecca",   "Sharon",
    "Laura",     "Cynthia",  "Kathleen", "Amy",     "Angela",    "Shirley",   "Anna",
    "Brenda",    "Pamela",   "Emma",     "Nicole",  "Helen",     "Samantha",  "Katherine",
    "Christine", "Debra",    "Rachel",   "Carolyn", "Janet",     "Catherine", "Maria",
    "Heather",   "Diane",    "Ruth",     "Julie",   "Olivia",    "Joyce",     "Virginia",
    "Sophia",    "Isabella", "Ava",      "Mia",     "Rosa",      "Mei",       "Priya",
    "Fatima"};

// Five-year bands 0-4 ... 95-99.
constexpr double kAgePyramid[] = {5.7, 6.0, 6.4, 6.5, 6.5, 6.9, 7.0, 6.6, 6.2, 6.0,
                                  6.3, 6.5, 6.3, 5.5, 4.4, 3.1, 2.0, 1.2, 0.6, 0.2};

// ---- Records for quality measures ------------------------------------------------------------

constexpr Diagnosis kAdvancedIllness[] = {
    {"I50.9", "Heart failure, unspecified", "84114007", "Heart failure (disorder)"},
    {"F03.90", "Unspecified dementia without behavioral disturbance", "52448006",
     "Dementia (disorder)"},
    {"G30.9", "Alzheimer's disease, unspecified", "26929004", "Alzheimer's disease (disorder)"}};
constexpr double kAdvancedIllnessW[] = {0.45, 0.35, 0.2};

const MeasureCodes kMeasureCodes = {
    {kCpt, "99213", "Office or other outpatient visit, established patient, low complexity"},
    {kCpt, "99214", "Office or other outpatient visit, established patient, moderate complexity"},
    {{kCpt, "99395", "Periodic preventive medicine, established patient, 18-39 years"},
     {kCpt, "99396", "Periodic preventive medicine, established patient, 40-64 years"},
     {kCpt, "99397", "Periodic preventive medicine, established patient, 65 years and older"}},
    {kCpt, "99283", "Emergency department visit, moderate severity"},
    {kSnomed, "185317003", "Telephone encounter (procedure)"},
    {kSnomed, "73761001", "Colonoscopy (procedure)"},
    {kSnomed, "44441009", "Flexible fiberoptic sigmoidoscopy (procedure)"},
    {kSnomed, "26390003", "Total colectomy (procedure)"},
    {kLoinc, "2335-8", "Hemoglobin.gastrointestinal [Presence] in Stool"},
    {kLoinc, "77354-9",
     "Noninvasive colorectal cancer DNA and occult blood screening [Presence] in Stool"},
    {kLoinc, "79101-2", "CT Colon and Rectum for screening W air contrast PR"},
    {kSnomed, "260385009", "Negative (qualifier value)"},
    {kSnomed, "10828004", "Positive (qualifier value)"},
    {kSnomed, "385763009", "Hospice care (regime/therapy)"},
    {kSnomed, "103735009", "Palliative care (regime/therapy)"},
    {"C18.9", "Malignant neoplasm of colon, unspecified", "363406005",
     "Malignant neoplasm of colon (disorder)"},
    {"M62.81", "Muscle weakness (generalized)", "26544005", "Muscle weakness (finding)"},
    kAdvancedIllness,
    kAdvancedIllnessW,
};

}  // namespace

const ChronicDef& ChronicTable(Chronic c) { return kChronic[static_cast<int>(c)]; }

double BasePrevalence(const ChronicDef& def, int age, bool female) {
  double p = 0;
  for (const AgeBand& band : def.prevalence) {
    if (age >= band.min_age) p = female ? band.female : band.male;
  }
  return p;
}

std::span<const AcuteDef> AcuteTable() { return kAcute; }
const VaccineSet& Vaccines() { return kVaccines; }
const MeasureCodes& MeasureTable() { return kMeasureCodes; }
std::span<const AllergyDef> AllergyTable() { return kAllergies; }
std::span<const City> Cities() { return kCities; }
std::span<const std::string_view> Streets() { return kStreets; }
std::span<const std::string_view> StreetSuffixes() { return kStreetSuffixes; }
std::span<const std::string_view> FamilyNames() { return kFamilyNames; }
std::span<const std::string_view> MaleNames() { return kMaleNames; }
std::span<const std::string_view> FemaleNames() { return kFemaleNames; }
std::span<const double> AgePyramid() { return kAgePyramid; }

const LegacyIcd9* Icd9For(std::string_view icd10) {
  for (const LegacyIcd9& l : kLegacyIcd9) {
    if (l.icd10 == icd10) return &l;
  }
  return nullptr;
}

}  // namespace vesta::generate
