% Text
% Lia, unmarried, has a farm. In 2016 Mae, Nik and Ola picked fruit there from June to September and
% were paid $7000 each in cash. In 2017 only Mae worked, for $8000 in cash. Lia earned $100000 in
% 2017 and does not itemize.
% By hand: $21,000 of wages for agricultural labor in 2016, the preceding year: Lia is an employer
% (§3306(a)(2)(A)) and the labor is employment (§3306(c)(1)(A)(i)). 2017 wages: $7,000 of Mae's
% $8,000 (§3306(b)(1)): excise $420. Income tax $100,000 - $5,000 = $95,000: §1(c)(iii), $12,107 +
% 31% of $41,500 = $24,972. Total $25,392.

% Question
% How much tax does Lia have to pay in 2017? $25392

% Facts
:- [statutes/prolog/init].
business_(lias_farm).
agent_(lias_farm,lia).
agricultural_service_(mae_picks_2016).
agent_(mae_picks_2016,mae).
patient_(mae_picks_2016,lia).
location_(mae_picks_2016,lias_farm).
start_(mae_picks_2016,"2016-06-01").
end_(mae_picks_2016,"2016-09-30").
payment_(lia_pays_mae_2016).
agent_(lia_pays_mae_2016,lia).
patient_(lia_pays_mae_2016,mae).
purpose_(lia_pays_mae_2016,mae_picks_2016).
amount_(lia_pays_mae_2016,7000).
means_(lia_pays_mae_2016,cash).
start_(lia_pays_mae_2016,"2016-09-30").
agricultural_service_(nik_picks_2016).
agent_(nik_picks_2016,nik).
patient_(nik_picks_2016,lia).
location_(nik_picks_2016,lias_farm).
start_(nik_picks_2016,"2016-06-01").
end_(nik_picks_2016,"2016-09-30").
payment_(lia_pays_nik_2016).
agent_(lia_pays_nik_2016,lia).
patient_(lia_pays_nik_2016,nik).
purpose_(lia_pays_nik_2016,nik_picks_2016).
amount_(lia_pays_nik_2016,7000).
means_(lia_pays_nik_2016,cash).
start_(lia_pays_nik_2016,"2016-09-30").
agricultural_service_(ola_picks_2016).
agent_(ola_picks_2016,ola).
patient_(ola_picks_2016,lia).
location_(ola_picks_2016,lias_farm).
start_(ola_picks_2016,"2016-06-01").
end_(ola_picks_2016,"2016-09-30").
payment_(lia_pays_ola_2016).
agent_(lia_pays_ola_2016,lia).
patient_(lia_pays_ola_2016,ola).
purpose_(lia_pays_ola_2016,ola_picks_2016).
amount_(lia_pays_ola_2016,7000).
means_(lia_pays_ola_2016,cash).
start_(lia_pays_ola_2016,"2016-09-30").
agricultural_service_(mae_picks_2017).
agent_(mae_picks_2017,mae).
patient_(mae_picks_2017,lia).
location_(mae_picks_2017,lias_farm).
start_(mae_picks_2017,"2017-06-01").
end_(mae_picks_2017,"2017-09-30").
payment_(lia_pays_mae_2017).
agent_(lia_pays_mae_2017,lia).
patient_(lia_pays_mae_2017,mae).
purpose_(lia_pays_mae_2017,mae_picks_2017).
amount_(lia_pays_mae_2017,8000).
means_(lia_pays_mae_2017,cash).
start_(lia_pays_mae_2017,"2017-09-29").
income_(lia_farm_income_2017).
agent_(lia_farm_income_2017,lia).
amount_(lia_farm_income_2017,100000).
start_(lia_farm_income_2017,"2017-12-31").

% Test
:- tax(lia,2017,25392).
:- halt.
