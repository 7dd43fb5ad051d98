% Text
% Kofi runs a farm. From May to October 2017 Bo harvested there, for $10000 paid in cash; Abe did too,
% for $15000. Bo was admitted to the United States on April 20th, 2017 to perform agricultural labor.
% By hand: agricultural labor by an alien admitted to perform it is no employment (§3306(c)(1)(B)).

% Question
% Section 3306(c)(1) applies to Kofi employing Bo for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
business_(kofi_farm).
agent_(kofi_farm,kofi).
agricultural_service_(abe_harvests).
agent_(abe_harvests,abe).
patient_(abe_harvests,kofi).
location_(abe_harvests,kofi_farm).
start_(abe_harvests,"2017-05-01").
end_(abe_harvests,"2017-10-31").
payment_(kofi_pays_abe).
agent_(kofi_pays_abe,kofi).
patient_(kofi_pays_abe,abe).
purpose_(kofi_pays_abe,abe_harvests).
amount_(kofi_pays_abe,15000).
means_(kofi_pays_abe,cash).
start_(kofi_pays_abe,"2017-10-31").
migration_(bo_admitted).
agent_(bo_admitted,bo).
destination_(bo_admitted,"United States").
purpose_(bo_admitted,"agricultural labor").
start_(bo_admitted,"2017-04-20").
agricultural_service_(bo_harvests).
agent_(bo_harvests,bo).
patient_(bo_harvests,kofi).
location_(bo_harvests,kofi_farm).
start_(bo_harvests,"2017-05-01").
end_(bo_harvests,"2017-10-31").
payment_(kofi_pays_bo).
agent_(kofi_pays_bo,kofi).
patient_(kofi_pays_bo,bo).
purpose_(kofi_pays_bo,bo_harvests).
amount_(kofi_pays_bo,10000).
means_(kofi_pays_bo,cash).
start_(kofi_pays_bo,"2017-10-31").
income_(kofi_farm_income).
agent_(kofi_farm_income,kofi).
amount_(kofi_farm_income,100000).
start_(kofi_farm_income,"2017-12-31").

% Test
:- \+ s3306_c_1(_,kofi,bo,2017).
:- halt.
