% Text
% Kofi, unmarried, runs a farm. From May to October 2017 Abe and Bo harvested there; Kofi paid Abe
% $15000 and Bo $10000 in cash on October 31st, 2017. Bo was admitted to the United States on April
% 20th, 2017 to perform agricultural labor. Kofi earned $100000 in 2017 and does not itemize.
% By hand: $25,000 of cash for agricultural labor, so Abe's labor is employment (§3306(c)(1)(A)(i),
% the alien's pay counting), but Bo's is not ((c)(1)(B)). Wages for agricultural labor: Abe's,
% capped at $7,000 (§3306(b)(1)), under the $20,000 of §3306(a)(2)(A); two workers, not five
% ((a)(2)(B)): Kofi is no employer, no excise tax. Income tax $100,000 - $5,000 = $95,000:
% §1(c)(iii) $12,107 + 31% of $41,500 = $24,972.

% Question
% How much tax does Kofi have to pay in 2017? $24972

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
:- tax(kofi,2017,24972).
:- halt.
